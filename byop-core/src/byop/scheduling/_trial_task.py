"""`Trial.Task`: a task that runs an objective on a trial and emits the trial's report."""

from __future__ import annotations

import time
import traceback as _tb
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from byop.optimization._errors import InvalidReportError, NoReportError
from byop.optimization._exceptions import portable
from byop.optimization._time import TimeInterval, TimeKind
from byop.optimization._trial import (
    REPORT_TYPES,
    CrashReport,
    FailReport,
    Report,
    ReportStatus,
    Trial,
)
from byop.scheduling._call import Call, CallState
from byop.scheduling._events import Event
from byop.scheduling._limits import (
    CPUTimeLimitExceeded,
    Limits,
    MemoryLimitExceeded,
    WallTimeLimitExceeded,
    as_limit_exception,
    enforcer,
)
from byop.scheduling._task import Task, _is_limit

if TYPE_CHECKING:
    from byop.scheduling._scheduler import Scheduler
    from byop.scheduling._stop import StopCriterion

ReportData = tuple[
    int, dict[str, Any], float, float, float, float, float, float, BaseException | None, str | None
]
"""A report without its trial, as plain values, as sent back from a worker.

``(status, results, wall start, wall end, wall duration, cpu start, cpu end, cpu duration,
exception, traceback)``; the trial itself stays in the main process.
"""

_STATUSES = (ReportStatus.SUCCESS, ReportStatus.FAIL, ReportStatus.CRASHED)
_STATUS_CODE = {status: i for i, status in enumerate(_STATUSES)}
_KINDS = tuple(REPORT_TYPES[s] for s in _STATUSES)


def _describe(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


class TrialRunner:
    """Runs an objective on a trial where the trial runs, and gives its report back.

    The objective's report is the trial's report; an objective that returns ``None`` after
    reporting is fine (its report stands), one that returns ``None`` without reporting crashes
    with `NoReportError`. An exception escaping the objective is a crash, except a limit breach,
    which is a failure with the limit's exception.
    """

    __slots__ = ("limits", "objective")

    def __init__(self, objective: Callable[[Trial[Any]], Any], limits: Limits | None) -> None:
        self.objective = objective
        self.limits = limits

    def __call__(self, trial: Trial[Any]) -> ReportData:
        trial._start()
        limits = self.limits
        try:
            if limits is None:
                out = self.objective(trial)
            else:
                with enforcer(limits):
                    out = self.objective(trial)
        except Exception as e:
            exc = as_limit_exception(limits, e)
            tb = "".join(_tb.format_exception(exc))
            if _is_limit(exc):
                report: Report[Any] = _force(trial, FailReport, exc, tb)
            else:
                report = _force(trial, CrashReport, exc, tb)
            return _data(report)
        report_or_none = trial.report
        if out is not None and out is not report_or_none:
            name = _describe(self.objective)
            what = type(out).__name__
            invalid = InvalidReportError(
                f"The objective {name} returned a {what}, not its trial's report: return "
                "trial.success(...) or trial.fail(...)."
            )
            return _data(_force(trial, CrashReport, invalid, _line(invalid)))
        if report_or_none is None:
            name = _describe(self.objective)
            error = NoReportError(
                f"The objective {name} returned without reporting: end it with "
                "`return trial.success(cost=...)` or `trial.fail()`."
            )
            return _data(_force(trial, CrashReport, error, _line(error)))
        report = report_or_none
        if limits is not None and report.exception is not None and limits.memory is not None:
            converted = as_limit_exception(limits, report.exception)
            if converted is not report.exception:
                return _data(report, converted)
        return _data(report)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TrialRunner, (self.objective, self.limits))


def _line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}\n"


def _force(
    trial: Trial[Any], kind: type[Report[Any]], exc: BaseException, tb: str | None
) -> Report[Any]:
    """End the trial with ``kind``, replacing a report it may have made before raising."""
    wall, cpu = trial._intervals()
    earlier = trial.report
    results = dict(earlier.results) if earlier is not None and kind is FailReport else {}
    report = kind(trial, results, wall, cpu, exc, tb)
    trial._report = report
    return report


def _data(report: Report[Any], exception: BaseException | None = None) -> ReportData:
    wall, cpu = report.time, report.cpu_time
    return (
        _STATUS_CODE[report.status],
        report.results,
        wall.start,
        wall.end,
        wall.duration,
        cpu.start,
        cpu.end,
        cpu.duration,
        portable(exception or report.exception),
        report.traceback,
    )


class TrialTask(Task[[Trial[Any]], Report[Any]]):
    """A task that runs an objective on a trial: ``Trial.Task(objective)``.

    Each call ends with exactly one report, emitted as ``on_report`` and then one of
    ``on_success``, ``on_failure`` or ``on_crashed``; a limit breach also fires the matching
    limit event (with the report). A worker that dies gives that trial a `CrashReport` naming
    the cause; a call cancelled or terminated as the scheduler stops gives a `CrashReport` whose
    exception is `CallCancelledError`.

    Args:
        fn: The objective, ``fn(trial) -> report``.
        scheduler: The scheduler; by default the one running when the task is called.
        name: A name for messages.
        call_limit: At most this many trials in all.
        concurrent_limit: At most this many trials running at once.
        memory_limit: Bytes (or ``"512MB"``) a trial may add to its worker's memory.
        cpu_time_limit: Seconds of CPU time a trial may use.
        wall_time_limit: Seconds a trial may run.
    """

    def __init__(
        self,
        fn: Callable[[Trial[Any]], Any],
        scheduler: Scheduler | None = None,
        *,
        name: str | None = None,
        call_limit: int | None = None,
        concurrent_limit: int | None = None,
        memory_limit: int | float | str | None = None,
        cpu_time_limit: float | None = None,
        wall_time_limit: float | None = None,
    ) -> None:
        super().__init__(
            fn,
            scheduler,
            name=name,
            call_limit=call_limit,
            concurrent_limit=concurrent_limit,
            memory_limit=memory_limit,
            cpu_time_limit=cpu_time_limit,
            wall_time_limit=wall_time_limit,
        )
        self._runner = TrialRunner(fn, self.limits)
        self.on_report: Event[[Report[Any]]] = Event(
            "on_report", "A trial ended: its report (success, failure or crash)."
        )
        self.on_success: Event[[Report[Any]]] = Event(
            "on_success", "A trial succeeded: its SuccessReport."
        )
        self.on_failure: Event[[Report[Any]]] = Event(
            "on_failure", "A trial failed: its FailReport."
        )
        self.on_crashed: Event[[Report[Any]]] = Event(
            "on_crashed", "A trial crashed: its CrashReport."
        )
        self._by_status = {
            ReportStatus.SUCCESS: self.on_success,
            ReportStatus.FAIL: self.on_failure,
            ReportStatus.CRASHED: self.on_crashed,
        }

    def _remote(self) -> Callable[..., Any]:
        return self._runner

    def _remote_limits(self) -> Limits | None:
        return None  # the runner enforces them, to turn a breach into a report

    def __call__(self, trial: Trial[Any]) -> Call | None:
        """Submit ``trial``; returns its `Call`, or ``None`` when it is not submitted."""
        if not isinstance(trial, Trial):
            raise TypeError(
                f"Trial.Task {self.name!r} runs trials; got {type(trial).__name__}. Pass the "
                "trial an optimizer's ask() returned."
            )
        return self.submit(trial)

    def stop_when(self, criterion: StopCriterion) -> StopCriterion:
        """Stop the scheduler once ``criterion`` is met by this task's reports."""
        from byop.scheduling._task import _running

        def check(report: Report[Any]) -> None:
            criterion.update(report)
            if criterion.met():
                scheduler = self.scheduler or _running().get()
                if scheduler is not None:
                    scheduler.stop(reason=f"stop criterion met: {criterion}")

        self.on_report(check)
        return criterion

    # ------------------------------------------------------------------ results
    def _finished(self, call: Call) -> None:
        self.n_running -= 1
        if self.on_done:
            self.on_done.emit(call)
        report = self._report(call)
        call.value = report
        self.on_report.emit(report)
        self._by_status[report.status].emit(report)
        error = report.exception
        if error is not None and _is_limit(error):
            if isinstance(error, MemoryLimitExceeded):
                self.on_memory_limit.emit(call, error)
            elif isinstance(error, CPUTimeLimitExceeded):
                self.on_cpu_time_limit.emit(call, error)
            elif isinstance(error, WallTimeLimitExceeded):
                self.on_wall_time_limit.emit(call, error)
        if call.state is CallState.CANCELLED:
            self.on_cancelled.emit(call)

    def _report(self, call: Call) -> Report[Any]:
        trial: Trial[Any] = call.args[0]
        if call.state is CallState.DONE:
            data: ReportData = call.value
            status, results, w0, w1, wd, c0, c1, cd, exc, tb = data
            current = trial._report
            if current is not None and current.results is results and exc is current.exception:
                return current  # ran in this process: the trial's own report
            report = _KINDS[status](
                trial,
                results,
                TimeInterval(w0, w1, wd, TimeKind.WALL),
                TimeInterval(c0, c1, cd, TimeKind.CPU),
                exc,
                tb,
            )
            trial._report = report
            return report
        error = call.error
        assert error is not None
        wall, cpu = _since(call)
        tb = call.traceback or f"{type(error).__name__}: {error}\n"
        kind = FailReport if _is_limit(error) else CrashReport
        report = kind(trial, {}, wall, cpu, error, tb)
        trial._report = report
        return report

    def events(self) -> dict[str, Event[Any]]:
        """Every event of the task, by name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, Event)}


def _since(call: Call) -> tuple[TimeInterval, TimeInterval]:
    now_wall = time.time()
    if call.started is None:
        return (
            TimeInterval(now_wall, now_wall, 0.0, TimeKind.WALL),
            TimeInterval.instant(TimeKind.CPU),
        )
    wall0, perf0, _ = call.started
    duration = time.perf_counter() - perf0
    return (
        TimeInterval(wall0, wall0 + duration, duration, TimeKind.WALL),
        TimeInterval(0.0, 0.0, 0.0, TimeKind.CPU),  # the worker's CPU time is not known here
    )
