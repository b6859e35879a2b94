"""Calls packed as bytes, for back ends over other engines (Dask, Ray, Slurm, Airflow...).

A back end ships each call as bytes (`pack_call`: a `PackedFunction` and the arguments). The
engine's worker passes them, unopened, to `run_packed`, which runs the call in a `Sandbox`
and returns its outcome as bytes (`unpickle_outcome` reads them where the scheduler runs).
The engine's worker in between never unpickles user objects.

A function that closes over large data (an objective and its data set) should reach each
worker once per run, not with every call: such a back end puts the function's `spec` in its
engine's store once (Dask's ``scatter``, Ray's ``put``), sends each call's arguments alone
(`pack_arguments`) with a reference to it, and the worker runs
``run_packed(arguments, function=...)``, which keeps each function it has loaded, by key.
"""

from __future__ import annotations

import hashlib
import pickle
import struct
from collections.abc import Callable
from typing import Any

from byop.scheduling._backend import check_picklable
from byop.scheduling._call import Call
from byop.scheduling._errors import NotPicklableError
from byop.scheduling._execute import Outcome, execute
from byop.scheduling._limit_spec import Limits
from byop.scheduling._names import function_label
from byop.scheduling._worker import PROTOCOL, unsendable


class PackedFunction:
    """A call's function, pickled once (cloudpickle, by value where needed), with its limits.

    What a back end sends to an engine's worker instead of the function itself: plain bytes,
    so the worker never unpickles (or imports) user code; only the sandbox's child does.
    Calling it in the child unpickles the function once and calls it.

    Attributes:
        key: A digest of the function and its limits; equal keys run the same code.
        payload: The pickled function.
        limits: The task's limits: hard bounds, enforced by killing the child.
        applied_limits: The limits to apply around the function in the child (``None`` when
            the function applies them itself, as `Trial.Task`'s runner does).
        name: The function's name, for messages.

    Example:
        ```python
        from byop.scheduling import Limits, PackedFunction

        packed = PackedFunction.of(abs, limits=Limits(wall_time=5.0))
        assert packed(-3) == 3
        assert PackedFunction.of(abs, limits=None).key != packed.key
        ```
    """

    def __init__(
        self,
        key: str,
        payload: bytes,
        limits: Limits | None,
        applied_limits: Limits | None,
        name: str,
    ) -> None:
        self.key = key
        self.payload = payload
        self.limits = limits
        self.applied_limits = applied_limits
        self.name = name
        self.__qualname__ = name  # what `function_label` shows in messages: the function's own
        self.__module__ = ""
        self._fn: Callable[..., Any] | None = None
        self._spec: bytes | None = None

    @property
    def spec(self) -> bytes:
        """This packed function, pickled (once): the head of every `pack_call` of it."""
        if self._spec is None:
            self._spec = pickle.dumps(self, PROTOCOL)
        return self._spec

    @classmethod
    def of(
        cls,
        fn: Callable[..., Any],
        *,
        limits: Limits | None,
        wrapped: bool = True,
    ) -> PackedFunction:
        """Pack ``fn``; with ``wrapped``, the child applies ``limits`` around it.

        Raises:
            NotPicklableError: ``fn`` cannot be pickled.
        """
        applied = limits if wrapped else None
        payload = check_picklable(fn, function_label(fn))
        digest = hashlib.blake2b(payload, digest_size=16)
        digest.update(repr((limits, applied)).encode())
        return cls(digest.hexdigest(), payload, limits, applied, function_label(fn))

    @classmethod
    def of_call(cls, call: Call) -> PackedFunction:
        """Pack the function of a scheduler's call, with the limits it carries."""
        return cls.of(call.fn, limits=call.limits, wrapped=call.wrapped)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self._fn
        if fn is None:
            import cloudpickle

            fn = self._fn = cloudpickle.loads(self.payload)
        return fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            PackedFunction,
            (self.key, self.payload, self.limits, self.applied_limits, self.name),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PackedFunction) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"PackedFunction({self.name}, key={self.key[:8]})"


class PackedFunctions:
    """The packed functions of a back end's calls: each function packed once per run.

    Calls of one task share their function and limits, so a back end packs them once and sends
    the same bytes with every call. A back end clears the cache when its run ends, so that it
    keeps no user function alive.

    Example:
        ```python
        from byop.scheduling import Call, Limits, PackedFunctions, Task

        packs = PackedFunctions()
        task = Task(abs)
        first = Call(task, abs, (-3,), {}, Limits(wall_time=5.0))
        second = Call(task, abs, (-4,), {}, Limits(wall_time=5.0))
        assert packs.of_call(first) is packs.of_call(second)
        packs.clear()
        ```
    """

    def __init__(self) -> None:
        self._packed: dict[tuple[int, Limits | None, bool], tuple[Any, PackedFunction]] = {}

    def of_call(self, call: Call) -> PackedFunction:
        """The call's packed function, packed now if its function was not yet.

        Raises:
            NotPicklableError: The function cannot be pickled.
        """
        ident = (id(call.fn), call.limits, call.wrapped)
        entry = self._packed.get(ident)
        if entry is None or entry[0] is not call.fn:  # an id reused by another function
            entry = (call.fn, PackedFunction.of_call(call))
            self._packed[ident] = entry
        return entry[1]

    def clear(self) -> None:
        """Forget every packed function."""
        self._packed.clear()


def pickle_call(args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> bytes:
    """A call's arguments as bytes, for `run_packed` on an engine's worker.

    Raises:
        NotPicklableError: The arguments cannot be pickled (not even by cloudpickle).
    """
    data = (args, kwargs or None)
    try:
        return pickle.dumps(data, PROTOCOL)
    except Exception:
        import cloudpickle

        try:
            out: bytes = cloudpickle.dumps(data, PROTOCOL)
        except Exception as e:
            raise NotPicklableError(
                f"The arguments of the call cannot be sent to a worker: {type(e).__name__}: "
                f"{e}. Pass plain data (numbers, strings, dicts, arrays, attrs classes) and "
                "create other objects inside the function."
            ) from e
        return out


def pack_arguments(args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> bytes:
    """A call's arguments alone, as bytes: `run_packed` with ``function=`` takes them.

    For a back end that sends the function once per worker (see the module's description).

    Raises:
        NotPicklableError: The arguments cannot be pickled (not even by cloudpickle).

    Example:
        ```python
        from byop.scheduling import Limits, PackedFunction, pack_arguments, run_packed
        from byop.scheduling import unpickle_outcome

        packed = PackedFunction.of(abs, limits=None)
        out = run_packed(pack_arguments((-3,), None), function=packed.spec, sandbox="limits")
        assert unpickle_outcome(out) == (True, 3, None)
        ```
    """
    return pickle_call(args, kwargs)


_LENGTH = struct.Struct("!I")


def pack_call(fn: PackedFunction, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> bytes:
    """One call as bytes, for `run_packed` on an engine's worker: the function and arguments.

    Engines serialize plain bytes fastest, and the worker in between never unpickles user
    objects.

    Raises:
        NotPicklableError: The arguments cannot be pickled (not even by cloudpickle).
    """
    spec = fn.spec
    return _LENGTH.pack(len(spec)) + spec + pickle_call(args, kwargs)


_known: dict[bytes, PackedFunction] = {}  # the specs this process has seen, and their functions
_loaded: dict[str, PackedFunction] = {}  # the functions sent once per worker, by key
_MAX_KNOWN = 256


FunctionSource = PackedFunction | bytes | Callable[[], bytes]
"""A packed function, its `PackedFunction.spec`, or a function that fetches the spec."""


def load_function(function: FunctionSource, key: str | None = None) -> PackedFunction:
    """The packed function of a `PackedFunction.spec` (or the function), loaded once by key.

    A worker process keeps what it loaded, so that a function sent once serves every call of
    the run (its `PackedFunction` keeps the unpickled function too). With ``key``, a function
    already loaded under it is returned without looking at ``function`` (which may then be a
    function that fetches the spec, called only when needed).
    """
    if key is not None and (fn := _loaded.get(key)) is not None:
        return fn
    if isinstance(function, PackedFunction):
        fn = function
    else:
        spec = function if isinstance(function, bytes | bytearray | memoryview) else function()
        fn = pickle.loads(spec)
    if len(_loaded) >= _MAX_KNOWN:
        _loaded.clear()
    return _loaded.setdefault(fn.key, fn)


def unpack_call(call: bytes) -> tuple[PackedFunction, bytes]:
    (n,) = _LENGTH.unpack_from(call)
    spec = call[4 : 4 + n]
    fn = _known.get(spec)
    if fn is None:
        if len(_known) >= _MAX_KNOWN:
            _known.clear()
        fn = _known[spec] = pickle.loads(spec)
    return fn, call[4 + n :]


def unpickle_outcome(data: bytes) -> Outcome:
    """The outcome `run_packed` returned, as ``(ok, value or exception, traceback)``."""
    outcome: Outcome = pickle.loads(data)
    return outcome


class PickledCall:
    """What the sandbox's child runs: pickled arguments in, a pickled outcome out.

    The engine's worker in between only passes bytes along, and never unpickles user objects.
    """

    def __init__(self, packed: PackedFunction) -> None:
        self.packed = packed
        self.__qualname__ = packed.name  # what messages name: the function itself
        self.__module__ = ""

    def __call__(self, data: bytes) -> bytes:
        packed = self.packed
        args, kwargs = pickle.loads(data)
        ok, value, tb = execute(packed, args, kwargs, packed.applied_limits)
        try:
            return pickle.dumps((ok, value, tb), PROTOCOL)
        except Exception as e:
            return pickle.dumps((False, unsendable(packed, ok, value, e), tb), PROTOCOL)

    def __reduce__(self) -> tuple[Any, ...]:
        return (PickledCall, (self.packed,))
