"""Tasks: a function the scheduler runs on its back end, with events for what happens."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from byop.scheduling._call import Call, CallState
from byop.scheduling._context import running
from byop.scheduling._errors import SchedulerNotRunningError
from byop.scheduling._events import Event
from byop.scheduling._limit_spec import (
    CPUTimeLimitExceeded,
    Limits,
    MemoryLimitExceeded,
    WallTimeLimitExceeded,
)

if TYPE_CHECKING:
    from byop.scheduling._scheduler import Scheduler

P = ParamSpec("P")
R = TypeVar("R")


class Task(Generic[P, R]):
    """A function to run on a scheduler's back end, with events for what happens to each call.

    Calling the task submits a call and returns its `Call`, or ``None`` when the call is not
    submitted: over ``call_limit`` or ``concurrent_limit`` (the matching limit event fires), or
    because the scheduler is stopping.

    Args:
        fn: The function to run.
        scheduler: The scheduler to submit to; by default the one running when the task is
            called (the one whose callback calls it).
        name: A name for messages; by default the function's.
        call_limit: At most this many calls in all.
        concurrent_limit: At most this many calls running at once.
        memory_limit: Bytes (or ``"512MB"``) each call may add to its worker's memory.
        cpu_time_limit: Seconds of CPU time each call may use.
        wall_time_limit: Seconds each call may run.

    Events (subscribe with a decorator, bare or with options, see `Event`):

    - ``on_submitted(call)``: the call was handed to the back end.
    - ``on_done(call)``: the call ended, however it ended.
    - ``on_result(call, result)``: the call returned ``result``.
    - ``on_exception(call, exception)``: the call raised.
    - ``on_cancelled(call)``: the call was cancelled or terminated as the scheduler stopped.
    - ``on_call_limit(call)`` / ``on_concurrent_limit(call)``: a call was refused by a limit.
    - ``on_memory_limit(call, exception)``, ``on_cpu_time_limit(call, exception)``,
      ``on_wall_time_limit(call, exception)``: a call broke a limit.

    Example:
        ```python
        from byop.scheduling import Scheduler, Task

        def square(x: int) -> int:
            return x * x

        scheduler = Scheduler.with_sequential()
        task = Task(square, scheduler)
        results = []

        @scheduler.on_start
        def start() -> None:
            for x in range(3):
                task(x)

        @task.on_result
        def collect(call, result: int) -> None:
            results.append(result)

        scheduler.run()
        assert sorted(results) == [0, 1, 4]
        ```
    """

    def __init__(
        self,
        fn: Callable[P, R],
        scheduler: Scheduler | None = None,
        *,
        name: str | None = None,
        call_limit: int | None = None,
        concurrent_limit: int | None = None,
        memory_limit: int | float | str | None = None,
        cpu_time_limit: float | None = None,
        wall_time_limit: float | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"A task runs a function; got {type(fn).__name__} {fn!r}.")
        for label, value in (("call_limit", call_limit), ("concurrent_limit", concurrent_limit)):
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ValueError(f"{label} must be a non-negative int, got {value!r}.")
        self.fn = fn
        self.scheduler = scheduler
        self.name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
        self.call_limit = call_limit
        self.concurrent_limit = concurrent_limit
        self.limits = Limits.of(memory_limit, cpu_time_limit, wall_time_limit)
        self.n_calls = 0
        self.n_running = 0

        self.on_submitted: Event[[Call]] = Event("on_submitted", "A call was submitted.")
        self.on_done: Event[[Call]] = Event("on_done", "A call ended.")
        self.on_result: Event[[Call, Any]] = Event("on_result", "A call returned a result.")
        self.on_exception: Event[[Call, BaseException]] = Event(
            "on_exception", "A call raised an exception."
        )
        self.on_cancelled: Event[[Call]] = Event(
            "on_cancelled", "A call was cancelled or terminated as the scheduler stopped."
        )
        self.on_call_limit: Event[[Call]] = Event(
            "on_call_limit", "A call was not submitted: the task reached its call_limit."
        )
        self.on_concurrent_limit: Event[[Call]] = Event(
            "on_concurrent_limit",
            "A call was not submitted: concurrent_limit calls were running.",
        )
        self.on_memory_limit: Event[[Call, BaseException]] = Event(
            "on_memory_limit", "A call broke its memory limit."
        )
        self.on_cpu_time_limit: Event[[Call, BaseException]] = Event(
            "on_cpu_time_limit", "A call broke its CPU-time limit."
        )
        self.on_wall_time_limit: Event[[Call, BaseException]] = Event(
            "on_wall_time_limit", "A call broke its wall-time limit."
        )

    # ------------------------------------------------------------------ submitting
    def _remote(self) -> Callable[..., Any]:
        """What runs in the worker (a `TrialTask` wraps the objective)."""
        return self.fn

    _wraps_limits = True
    """Whether the executing side applies the limits around `_remote` (a `TrialTask` does it
    inside its runner, to turn a breach into a report)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Call | None:
        """Submit a call; see the class description for when it is not submitted."""
        return self.submit(*args, **kwargs)

    def submit(self, *args: Any, **kwargs: Any) -> Call | None:
        """Submit a call with these arguments (the same as calling the task)."""
        scheduler = self.scheduler or running.get()
        if scheduler is None or not scheduler.is_running:
            raise SchedulerNotRunningError(
                f"Task {self.name!r} was called, but "
                + (
                    "its scheduler is not running. "
                    if self.scheduler
                    else "no scheduler is running. "
                )
                + "Call tasks from a scheduler's callbacks (for example in "
                "@scheduler.on_start), or pass the scheduler: Task(fn, scheduler)."
            )
        call = Call(self, self._remote(), args, kwargs, self.limits, wrapped=self._wraps_limits)
        if self.call_limit is not None and self.n_calls >= self.call_limit:
            call.state = CallState.REFUSED
            self.on_call_limit.emit(call)
            return None
        if self.concurrent_limit is not None and self.n_running >= self.concurrent_limit:
            call.state = CallState.REFUSED
            self.on_concurrent_limit.emit(call)
            return None
        if not scheduler.accept(call):
            return None
        self.n_calls += 1
        self.n_running += 1
        if self.on_submitted.subscriptions:
            self.on_submitted.emit(call)
        return call

    # ------------------------------------------------------------------ progress
    reports_progress = False
    """Whether the task's calls report progress (a `TrialTask`'s do): back ends then give
    each call a link (`attach_progress`)."""

    def attach_progress(self, call: Call, link: Callable[..., bool]) -> bool:
        """Give ``call`` the ``link`` its progress reports travel by; whether it takes one.

        For back ends. Only a `TrialTask`'s calls report progress (`Trial.report_progress`):
        a plain task's call takes none.
        """
        return False

    def progress(self, call: Call, step: float, values: dict[str, Any]) -> bool:
        """A running call reported progress; whether it should stop. For back ends.

        Called from whichever thread the back end hears it in; a plain task never stops one.
        """
        return False

    # ------------------------------------------------------------------ results
    def complete(self, call: Call) -> BaseException | None:
        """Emit the events of a call that ended; the scheduler calls it once per call.

        Returns:
            The call's exception when the scheduler's task-error policy is to handle it
            (a call that raised), else ``None``.
        """
        self.n_running -= 1
        if self.on_done.subscriptions:
            self.on_done.emit(call)
        state = call.state
        if state is CallState.DONE:
            if self.on_result.subscriptions:
                self.on_result.emit(call, call.value)
            return None
        error = call.error
        assert error is not None
        if state is CallState.CANCELLED:
            self.on_cancelled.emit(call)
            return None
        self.on_exception.emit(call, error)
        if _is_limit(error):
            self._limit_event(error).emit(call, error)
        return error

    def _limit_event(self, error: BaseException) -> Event[[Call, BaseException]]:
        if isinstance(error, MemoryLimitExceeded):
            return self.on_memory_limit
        if isinstance(error, CPUTimeLimitExceeded):
            return self.on_cpu_time_limit
        return self.on_wall_time_limit

    def events(self) -> dict[str, Event[Any]]:
        """Every event of the task, by name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, Event)}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, calls={self.n_calls}, running={self.n_running})"
        )


def _is_limit(error: BaseException) -> bool:
    return isinstance(error, MemoryLimitExceeded | CPUTimeLimitExceeded | WallTimeLimitExceeded)
