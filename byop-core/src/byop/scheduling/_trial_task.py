"""`Trial.Task`: a task that runs an objective on a trial and emits the trial's report."""

from __future__ import annotations

import threading
import time
import traceback as _tb
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from byop.optimization import (
    InvalidReportError,
    NoReportError,
    Report,
    ReportPayload,
    ReportStatus,
    TimeInterval,
    TimeKind,
    Trial,
    TrialPruned,
    results_of,
)
from byop.scheduling import _links
from byop.scheduling._call import Call, CallState
from byop.scheduling._compact import expand
from byop.scheduling._context import running
from byop.scheduling._events import Event
from byop.scheduling._limit_spec import (
    CPUTimeLimitExceeded,
    Limits,
    MemoryLimitExceeded,
    WallTimeLimitExceeded,
)
from byop.scheduling._limits import as_limit_exception, enforcer
from byop.scheduling._names import function_label
from byop.scheduling._task import Task, _is_limit

if TYPE_CHECKING:
    from byop.scheduling._scheduler import Scheduler
    from byop.scheduling._stop import StopCriterion


class TrialRunner:
    """Runs an objective on a trial where the trial runs, and gives its report back.

    The objective's report is the trial's report; an objective that returns ``None`` after
    reporting is fine (its report stands), one that returns ``None`` without reporting crashes
    with `NoReportError`. An objective that returns a number or a dictionary of results
    without reporting succeeds with them: a number is the value of the one metric (the first
    of ``metrics``, ``cost`` by default). An exception escaping the objective is a crash,
    except a limit breach, which is a failure with the limit's exception.

    When the trial's ``begin()`` block caught an exception (a limit breach among them), the
    trial failed with it: an objective that then returns without a report, or raises (as
    ``trial.success()`` does then), gives the `FailReport` that ``trial.fail()`` would have
    given, carrying that exception and its traceback.
    """

    __slots__ = ("limits", "metrics", "objective")

    def __init__(
        self,
        objective: Callable[[Trial[Any]], Any],
        limits: Limits | None,
        metrics: tuple[str, ...] = ("cost",),
    ) -> None:
        self.objective = objective
        self.limits = limits
        self.metrics = metrics

    def __call__(self, trial: Trial[Any]) -> ReportPayload:
        trial.start()
        if trial._link is None and _links.worker_link is not None:
            trial.listen(_links.worker_link)
        limits = self.limits
        try:
            if limits is None:
                out = self.objective(trial)
            else:
                with enforcer(limits):
                    out = self.objective(trial)
        except TrialPruned:
            report = trial.report
            return (trial.prune() if report is None else report).payload()
        except Exception as e:
            exc = as_limit_exception(limits, e)
            tb = "".join(_tb.format_exception(exc))
            if trial.exception is not None:
                later = None if e is trial.exception else tb
                return _failed_in_begin(trial, limits, later).payload()
            status = ReportStatus.FAIL if _is_limit(exc) else ReportStatus.CRASHED
            return _end(trial, status, exc, tb).payload()
        report = trial.report
        if report is None and out is not None and trial.exception is None:
            try:
                results = results_of(out, self.metrics)
            except ValueError as e:
                wrong = InvalidReportError(str(e))
                return _end(trial, ReportStatus.CRASHED, wrong, _line(wrong)).payload()
            if results is not None:
                return trial.success(**results).payload()
        if out is not None and out is not report:
            invalid = InvalidReportError(
                f"The objective {function_label(self.objective)} returned a "
                f"{type(out).__name__}, not its trial's report: return trial.success(...) or "
                "trial.fail(...) (or a number, or a dictionary of results, without reporting)."
            )
            if trial.exception is not None:
                return _failed_in_begin(trial, limits, _line(invalid)).payload()
            return _end(trial, ReportStatus.CRASHED, invalid, _line(invalid)).payload()
        if report is None:
            if trial.exception is not None:
                return _failed_in_begin(trial, limits).payload()
            error = NoReportError(
                f"The objective {function_label(self.objective)} returned without reporting: "
                "end it with `return trial.success(cost=...)` or `trial.fail()`."
            )
            return _end(trial, ReportStatus.CRASHED, error, _line(error)).payload()
        if limits is not None and report.exception is not None:
            converted = as_limit_exception(limits, report.exception)
            if converted is not report.exception:
                report = trial.end(
                    report.status, converted, report.traceback, results=report.results
                )
        return report.payload()

    @property
    def __wrapped__(self) -> Callable[[Trial[Any]], Any]:
        """The objective: what messages about the runner name (see `function_label`)."""
        return self.objective

    # The wire form, for the process back end: a trial travels as its plain fields (its info
    # compacted, see `byop.scheduling._compact`), its report comes back as a plain tuple, and
    # no class is named in either message.
    @staticmethod
    def wire_args(args: tuple[Any, ...], compact: Callable[[Any], Any]) -> tuple[Any, ...]:
        """The arguments of `call_wire` for a call with ``args`` (where the call is sent)."""
        trial = args[0]
        if trial.report is not None or trial.exception is not None:
            return args  # a trial that reported already travels whole, with its report
        return (
            (
                trial.name,
                trial.config,
                compact(trial.info),
                trial.seed,
                trial.budget,
                dict(trial.fidelities) if trial.fidelities else None,
            ),
        )

    def call_wire(self, fields: Any) -> tuple[Any, ...]:
        """Run the trial of `wire_args` (where the call runs); its payload as a plain tuple."""
        if isinstance(fields, Trial):
            return tuple(self(fields))
        name, config, info, seed, budget, fidelities = fields
        trial = Trial(name, config, expand(info), seed, budget)
        if fidelities:
            trial.fidelities = fidelities
        return tuple(self(trial))

    def __reduce__(self) -> tuple[Any, ...]:
        return (TrialRunner, (self.objective, self.limits, self.metrics))


def _line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}\n"


def _failed_in_begin(
    trial: Trial[Any], limits: Limits | None, later: str | None = None
) -> Report[Any]:
    """The `FailReport` of a trial whose ``begin()`` caught an exception: ``trial.fail()``'s.

    ``later`` is the traceback of an exception the objective raised after the block, kept
    below the first one's.
    """
    caught = trial.exception
    assert caught is not None
    tb = trial.traceback or _line(caught)
    if later is not None:
        tb += f"\nAfter the begin() block caught that, the objective raised:\n\n{later}"
    return _end(trial, ReportStatus.FAIL, as_limit_exception(limits, caught), tb)


def _end(
    trial: Trial[Any], status: ReportStatus, exc: BaseException, tb: str | None
) -> Report[Any]:
    """End the trial with ``status``; a failure keeps the results of a report made before."""
    earlier = trial.report
    keep = earlier is not None and status is ReportStatus.FAIL
    return trial.end(status, exc, tb, results=earlier.results if keep and earlier else None)


class TrialTask(Task[[Trial[Any]], Report[Any]]):
    """A task that runs an objective on a trial: ``Trial.Task(objective)``.

    Each call ends with exactly one report, emitted as ``on_report`` and then one of
    ``on_success``, ``on_failure``, ``on_crashed`` or ``on_pruned``; a limit breach also fires
    the matching limit event (with the report). A worker that dies gives that trial a
    `CrashReport` naming the cause; a call cancelled or terminated as the scheduler stops gives
    a `CrashReport` whose exception is `CallCancelledError`. A trial's `Trial.report_progress`
    reaches `progress_judge` in this process, on every back end, and its answer goes back to
    the trial.

    Args:
        fn: The objective, ``fn(trial) -> report``.
        scheduler: The scheduler; by default the one running when the task is called.
        name: A name for messages.
        call_limit: At most this many trials in all.
        concurrent_limit: At most this many trials running at once.
        memory_limit: Bytes (or ``"512MB"``) a trial may add to its worker's memory.
        cpu_time_limit: Seconds of CPU time a trial may use.
        wall_time_limit: Seconds a trial may run.
        metrics: The names of the metrics: a number the objective returns instead of a report
            is the value of the first (``cost`` by default).
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
        metrics: Sequence[str] = ("cost",),
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
        self._runner = TrialRunner(fn, self.limits, tuple(metrics))
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
        self.on_pruned: Event[[Report[Any]]] = Event(
            "on_pruned", "A trial was stopped early: its PrunedReport."
        )
        self._by_status = {
            ReportStatus.SUCCESS: self.on_success,
            ReportStatus.FAIL: self.on_failure,
            ReportStatus.CRASHED: self.on_crashed,
            ReportStatus.PRUNED: self.on_pruned,
        }
        self.progress_judge: Callable[[Trial[Any], float, dict[str, Any]], bool] | None = None
        """``judge(trial, step, values) -> bool``: whether a trial that reported progress
        should stop (`Trial.report_progress`); none: trials never stop early. Called with
        `progress_lock` held, from the thread the back end hears the report in."""
        self.progress_lock = threading.RLock()
        self._judge_errors: dict[int, Exception] = {}

    def _remote(self) -> Callable[..., Any]:
        return self._runner

    _wraps_limits = False  # the runner enforces them, to turn a breach into a report

    def __call__(self, trial: Trial[Any]) -> Call | None:
        """Submit ``trial``; returns its `Call`, or ``None`` when it is not submitted."""
        if not isinstance(trial, Trial):
            raise TypeError(
                f"Trial.Task {self.name!r} runs trials; got {type(trial).__name__}. Pass the "
                "trial an optimizer's ask() returned."
            )
        return self.submit(trial)

    reports_progress = True

    def attach_progress(self, call: Call, link: Callable[..., bool]) -> bool:
        """Send the progress of the call's trial by ``link`` (see `Trial.listen`)."""
        call.args[0].listen(link)
        return True

    def progress(self, call: Call, step: float, values: dict[str, Any]) -> bool:
        """The call's trial reported progress: what `progress_judge` answers.

        The main process's trial keeps it too (``trial.progress``). Once a trial was told to
        stop, it is not judged again. A judge that raises stops the trial; its exception is
        then the call's error for the scheduler (its task-error policy: by default the run
        raises it), once the trial's report is emitted.
        """
        trial: Trial[Any] = call.args[0]
        with self.progress_lock:
            trial._progress = (step, values)
            if trial._stop or call.done():  # told already, or cut off by the end of the run
                return True
            judge = self.progress_judge
            if judge is None:
                return False
            try:
                stop = bool(judge(trial, step, values))
            except Exception as e:
                # The trial is told to stop, and the error is the run's (at its report, in the
                # scheduler's thread, whatever thread heard the progress): never the trial's.
                self._judge_errors.setdefault(call.id, e)
                stop = True
            trial._stop = stop
            return stop

    def stop_when(self, criterion: StopCriterion) -> StopCriterion:
        """Stop the scheduler once ``criterion`` is met by this task's reports."""

        def check(report: Report[Any]) -> None:
            criterion.update(report)
            if criterion.met():
                scheduler = self.scheduler or running.get()
                if scheduler is not None:
                    scheduler.stop(reason=f"stop criterion met: {criterion}")

        self.on_report(check)
        return criterion

    # ------------------------------------------------------------------ results
    def complete(self, call: Call) -> BaseException | None:
        """Emit the trial's report: ``on_report``, then its status's event and any limit's.

        Returns:
            ``None``: a trial's failures are reports, never exceptions for the scheduler; only
            an exception of `progress_judge` is returned.
        """
        self.n_running -= 1
        if self.on_done.subscriptions:
            self.on_done.emit(call)
        trial: Trial[Any] = call.args[0]
        trial.listen(None)  # a link holds the call: let both go
        if call.state is CallState.DONE:
            report = trial.receive(call.value)
        else:
            report = self._report(call)
        call.value = report
        self.on_report.emit(report)
        by_status = self._by_status[report.status]
        if by_status.subscriptions:
            by_status.emit(report)
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
        if self._judge_errors:
            return self._judge_errors.pop(call.id, None)
        return None

    def _report(self, call: Call) -> Report[Any]:
        """The report of a call that did not return its trial's payload."""
        trial: Trial[Any] = call.args[0]
        error = call.error
        assert error is not None
        tb = call.traceback or f"{type(error).__name__}: {error}\n"
        status = ReportStatus.FAIL if _is_limit(error) else ReportStatus.CRASHED
        return trial.end(status, error, tb, times=_since(call))

    def events(self) -> dict[str, Event[Any]]:
        """Every event of the task, by name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, Event)}


def _since(call: Call) -> tuple[TimeInterval, TimeInterval]:
    """The wall-clock interval since the call was submitted (its worker's CPU time is unknown)."""
    now_wall = time.time()
    cpu = TimeInterval(0.0, 0.0, 0.0, TimeKind.CPU)
    if call.started is None:
        return (TimeInterval(now_wall, now_wall, 0.0, TimeKind.WALL), cpu)
    wall0, perf0 = call.started
    duration = time.perf_counter() - perf0
    return (TimeInterval(wall0, wall0 + duration, duration, TimeKind.WALL), cpu)
