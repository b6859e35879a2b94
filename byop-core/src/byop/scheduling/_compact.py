"""Small objects of custom types across a worker's pipe, their class named once per worker.

Pickle names an object's class in every message that holds one, and looking the class up again
costs more than pickling the rest of a small message (with Python 3.11, several microseconds
on each side). An object whose class reduces it to ``(reconstructor, args)`` (``RSTrialInfo``,
say) can instead travel as a code and its ``args``: the reconstructor goes to each worker once,
with the first object that needs it.
"""

from __future__ import annotations

import copyreg
from collections.abc import Callable
from typing import Any

Compacted = tuple[int, Any, Any]
"""``(code, args, reconstructor or None)``; code -1: ``args`` is the object itself."""

_reconstructors: dict[int, Callable[..., Any]] = {}
"""The worker's side: the reconstructors it was sent, by code."""


class Compactor:
    """The main process's side, one per worker: what that worker knows already.

    Args:
        codes: The back end's codes, shared by all its workers: by class, the code and the
            reconstructor, or ``None`` for a class that travels as itself.
    """

    __slots__ = ("_codes", "_known")

    def __init__(self, codes: dict[type, tuple[int, Callable[..., Any]] | None]) -> None:
        self._codes = codes
        self._known: set[int] = set()

    def compact(self, obj: Any) -> Compacted:
        """``obj`` as plain data for this worker (`expand` turns it back there)."""
        cls = type(obj)
        codes = self._codes
        entry = codes[cls] if cls in codes else self._learn(cls, obj)
        if entry is None:
            return (-1, obj, None)
        code, reconstructor = entry
        reduced = obj.__reduce__()
        if len(reduced) != 2 or reduced[0] is not reconstructor:
            return (-1, obj, None)  # this one reduces differently: it travels as itself
        if code in self._known:
            return (code, reduced[1], None)
        self._known.add(code)
        return (code, reduced[1], reconstructor)

    def _learn(self, cls: type, obj: Any) -> tuple[int, Callable[..., Any]] | None:
        entry: tuple[int, Callable[..., Any]] | None = None
        reduce: Any = cls.__reduce__
        reduce_ex: Any = cls.__reduce_ex__
        # Only a class with a __reduce__ of its own, which pickle uses as it is.
        if (
            reduce is not object.__reduce__
            and reduce_ex is object.__reduce_ex__
            and cls not in copyreg.dispatch_table
        ):
            try:
                reduced = obj.__reduce__()
            except Exception:
                reduced = None
            if (
                isinstance(reduced, tuple)
                and len(reduced) == 2
                and callable(reduced[0])
                and isinstance(reduced[1], tuple)
            ):
                entry = (len(self._codes), reduced[0])
        self._codes[cls] = entry
        return entry


def expand(compacted: Compacted) -> Any:
    """The object `Compactor.compact` made plain (where the call runs)."""
    code, args, reconstructor = compacted
    if code < 0:
        return args
    if reconstructor is not None:
        _reconstructors[code] = reconstructor
    return _reconstructors[code](*args)
