"""A call: one submission of a task, and what became of it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from byop.scheduling._limit_spec import Limits
    from byop.scheduling._task import Task

_ids = itertools.count()


class CallState(StrEnum):
    """Where a call is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUSED = "refused"


class Call:
    """One call of a task: its arguments, and once it ends, its result or exception.

    Returned by calling a task; passed to the task's events.

    Attributes:
        id: Unique in the process.
        task: The task called.
        args: The positional arguments.
        limits: The task's limits: applied where the call runs (unless ``fn`` applies them
            itself, ``wrapped`` false) and, as hard bounds, by back ends that can.
        kwargs: The keyword arguments.
        state: Where the call is (`CallState`).
        value: The result, once ``state`` is ``DONE``.
        error: The exception, once ``state`` is ``FAILED`` or ``CANCELLED``.
        traceback: The formatted traceback of ``error``, when known.
    """

    __slots__ = (
        "args",
        "error",
        "fn",
        "handle",
        "id",
        "kwargs",
        "limits",
        "started",
        "state",
        "task",
        "traceback",
        "value",
        "wrapped",
    )

    def __init__(
        self,
        task: Task[..., Any],
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        limits: Limits | None,
        *,
        wrapped: bool = True,
    ) -> None:
        self.id = next(_ids)
        self.task = task
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.limits = limits
        self.wrapped = wrapped
        self.state = CallState.QUEUED
        self.value: Any = None
        self.error: BaseException | None = None
        self.traceback: str | None = None
        self.handle: Any = None  # the back end's own handle (a future, a worker...)
        self.started: tuple[float, float] | None = None  # wall clock and perf counter at submit

    @property
    def applied_limits(self) -> Limits | None:
        """The limits the executing side must apply around ``fn``."""
        return self.limits if self.wrapped else None

    def done(self) -> bool:
        """Whether the call has ended (with a result, an exception, or cancelled)."""
        return self.state in (CallState.DONE, CallState.FAILED, CallState.CANCELLED)

    def succeed(self, value: Any) -> None:
        """Record the call's result."""
        self.state = CallState.DONE
        self.value = value

    def fail(self, error: BaseException, traceback: str | None = None) -> None:
        """Record the call's exception."""
        self.state = CallState.FAILED
        self.error = error
        self.traceback = traceback

    def record(self, outcome: tuple[bool, Any, str | None]) -> None:
        """Record an outcome as the executing side returns it.

        Args:
            outcome: ``(True, value, None)``, or ``(False, exception, formatted traceback)``.
        """
        ok, value, traceback = outcome
        if ok:
            self.succeed(value)
        else:
            self.fail(value, traceback)

    def cancel(self, error: BaseException) -> None:
        """Record that the call was cancelled or terminated, and why."""
        self.state = CallState.CANCELLED
        self.error = error

    def __repr__(self) -> str:
        return f"Call({self.task.name}#{self.id}, {self.state.value})"
