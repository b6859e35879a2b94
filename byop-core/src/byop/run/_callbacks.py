"""`optimize`'s callbacks: each report, and the end of the run, in the main process, in order."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from attrs import frozen

from byop.history import History
from byop.optimization import Report

logger = logging.getLogger("byop.run")


@frozen(kw_only=True)
class RunEnd:
    """How a run ended, as `Callback.on_end` receives it.

    Attributes:
        history: Every finished trial of the run, earlier sessions included.
        status: ``"exhausted"`` (the trial budget or the optimizer's space), ``"timeout"``,
            ``"stopped"`` (a stop criterion was met), ``"interrupted"`` (Ctrl-C) or
            ``"error: ..."``.
        reason: Why, in words (``"stop criterion met: NoImprovement(50)"``), if known.
        store: The run store, if any.
    """

    history: History
    status: str
    reason: str | None = None
    store: Path | None = None


class Callback:
    """What `optimize`'s ``callbacks=`` take, besides plain functions of a report.

    Subclassing is optional: any object with an ``on_report`` and/or ``on_end`` method will
    do, and a plain function is called as ``fn(report)``. Each is called in the main process,
    in order, right after the report is stored and the optimizer told: a callback sees every
    report of this call of `optimize` (not those of earlier sessions of a resumed run), in the
    order the trials finished.

    A callback that raises does not stop the run: the error is logged on the ``byop.run``
    logger with the callback's name and traceback (later errors of the same callback are
    counted, and the summary lists them), and the run goes on. To end a run early, use
    ``stop_when=``.

    Example:
        ```python
        from byop.run import Callback, optimize

        class Count(Callback):
            def __init__(self) -> None:
                self.reports = 0
                self.status = None

            def on_report(self, report):
                self.reports += 1

            def on_end(self, end):
                self.status = end.status

        count = Count()
        optimize(
            lambda trial: trial.success(cost=trial.config["x"] ** 2),
            {"x": (-1.0, 1.0)},
            backend="threads",
            max_trials=5,
            progress="off",
            callbacks=[count],
        )
        assert (count.reports, count.status) == (5, "exhausted")
        ```
    """

    def on_report(self, report: Report[Any]) -> None:
        """A trial ended: its report (success, failure or crash)."""

    def on_end(self, end: RunEnd) -> None:
        """The run ended (also by Ctrl-C or an error): its history and status."""


def check_callbacks(callbacks: Any) -> tuple[Any, ...]:
    """The callbacks as a tuple, each a function of a report or an object with the methods.

    Raises:
        TypeError: Something is neither.
    """
    if callbacks is None:
        return ()
    if callable(callbacks) or _has_methods(callbacks):
        callbacks = [callbacks]
    if isinstance(callbacks, str | bytes) or not isinstance(callbacks, Iterable):
        raise TypeError(
            "callbacks must be a list of functions of a report, or of objects with "
            f"on_report(report) and/or on_end(end) methods; got {type(callbacks).__name__}."
        )
    out = tuple(callbacks)
    for cb in out:
        if not (callable(cb) or _has_methods(cb)):
            raise TypeError(
                f"callback {cb!r} ({type(cb).__name__}) is neither a function of a report nor "
                "an object with an on_report(report) or on_end(end) method."
            )
    return out


def _has_methods(obj: Any) -> bool:
    return callable(getattr(obj, "on_report", None)) or callable(getattr(obj, "on_end", None))


def callback_name(fn: Any) -> str:
    """A callback's name for messages: ``Tracker.on_report``, ``log_report``."""
    owner = getattr(fn, "__self__", None)
    name: str | None = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if owner is not None and name is not None and "." not in name:
        return f"{type(owner).__name__}.{name}"
    if name is None:
        return repr(fn)
    return name.rpartition("<locals>.")[2]  # a function made in a function: its own name


class Callbacks:
    """Calls the callbacks, keeping the run going when one raises.

    Args:
        callbacks: As `check_callbacks` returns them.
    """

    def __init__(self, callbacks: Iterable[Any]) -> None:
        self.on_report: list[Callable[[Report[Any]], Any]] = []
        self.on_end: list[Callable[[RunEnd], Any]] = []
        for cb in callbacks:
            if _has_methods(cb):
                if callable(getattr(cb, "on_report", None)):
                    self.on_report.append(cb.on_report)
                if callable(getattr(cb, "on_end", None)):
                    self.on_end.append(cb.on_end)
            else:
                self.on_report.append(cb)
        self.errors: Counter[tuple[str, str]] = Counter()  # (callback, exception type) -> n

    def report(self, report: Report[Any]) -> None:
        """Give every callback the report."""
        for fn in self.on_report:
            try:
                fn(report)
            except Exception as e:
                self._failed(fn, e, f"trial {report.trial.name}")

    def end(self, end: RunEnd) -> None:
        """Give every callback the end of the run."""
        for fn in self.on_end:
            try:
                fn(end)
            except Exception as e:
                self._failed(fn, e, "the end of the run")

    def _failed(self, fn: Any, error: Exception, what: str) -> None:
        name = callback_name(fn)
        key = (name, type(error).__name__)
        self.errors[key] += 1
        if self.errors[key] == 1:
            logger.warning(
                "callback %s raised %s on %s; the run goes on (later %s errors of this "
                "callback are counted in the summary)",
                name,
                type(error).__name__,
                what,
                type(error).__name__,
                exc_info=error,
            )
        else:
            logger.debug("callback %s raised %r on %s", name, error, what)

    def summary(self) -> str | None:
        """The callbacks' errors in one line, if any."""
        if not self.errors:
            return None
        return ", ".join(f"{name} raised {kind} x{n}" for (name, kind), n in self.errors.items())
