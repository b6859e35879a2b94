"""Trials and their reports.

A `Trial` is one configuration an optimizer wants evaluated. The objective runs it and ends it
with exactly one report: `Trial.success` gives a `SuccessReport`, `Trial.fail` a `FailReport`,
and a crash a `CrashReport`.
"""

from __future__ import annotations

import traceback as _tb
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from attrs import define, field

from byop.optimization._errors import TrialAlreadyReportedError, TrialFailedError, TrialPruned
from byop.optimization._progress import ProgressLink, check_progress
from byop.optimization._report import (
    _BY_VALUE,
    REPORT_TYPES,
    STEP,
    CrashReport,
    FailReport,
    PrunedReport,
    Report,
    ReportPayload,
    ReportStatus,
    SuccessReport,
)
from byop.optimization._time import TimeInterval, TimeKind, Timer

if TYPE_CHECKING:
    from byop.scheduling import TrialTask

Info = TypeVar("Info")


class _Begin:
    """The context manager returned by `Trial.begin`."""

    __slots__ = ("_trial",)

    def __init__(self, trial: Trial[Any]) -> None:
        self._trial = trial

    def __enter__(self) -> None:
        trial = self._trial
        trial._timer = Timer()
        trial._times = None
        trial._exception = None  # a new attempt: only the last block's exception counts
        trial._traceback = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        trial = self._trial
        if trial._times is None and trial._timer is not None:
            trial._times = trial._timer.stop()
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, TrialPruned):
            return False  # KeyboardInterrupt and the like are not the trial's; a prune ends it
        trial._exception = exc
        trial._traceback = "".join(_tb.format_exception(exc_type, exc, tb))
        return True


_NO_FIDELITIES: Mapping[str, float] = MappingProxyType({})  # shared: it cannot change


class _TaskAlias:
    """``Trial.Task``: resolved on first use so that importing trials stays light."""

    def __get__(self, obj: object, owner: type | None = None) -> type[TrialTask]:
        from byop.scheduling import TrialTask

        task: type[TrialTask] = TrialTask
        return task


@define(slots=True, eq=False, repr=False, getstate_setstate=False)
class Trial(Generic[Info]):
    """One configuration to evaluate, as asked of an optimizer.

    Attributes:
        name: Unique among the trials of one optimizer.
        config: The configuration, a mapping of hyperparameter names to values.
        info: Whatever the optimizer needs to keep with the trial (its own trial object).
        seed: A seed for the objective to use, if the optimizer gives one.
        budget: The fidelity to evaluate at (epochs, samples...), for multi-fidelity
            optimizers: the value of the one declared `Fidelity` (or an unnamed budget).
        fidelities: The value of each declared `Fidelity` to evaluate at, by name.

    Example:
        ```python
        from byop.optimization import Trial

        trial = Trial(name="t1", config={"x": 2.0})
        with trial.begin():
            report = trial.success(cost=trial.config["x"] ** 2)
        assert report["cost"] == 4.0
        ```
    """

    name: str
    config: Mapping[str, Any]
    info: Info = None  # type: ignore[assignment]
    seed: int | None = None
    budget: float | None = None
    fidelities: Mapping[str, float] = _NO_FIDELITIES

    _report: Report[Info] | None = field(default=None, init=False)
    _exception: BaseException | None = field(default=None, init=False)
    _traceback: str | None = field(default=None, init=False)
    _timer: Timer | None = field(default=None, init=False)
    _times: tuple[TimeInterval, TimeInterval] | None = field(default=None, init=False)
    _asked_by: int | None = field(default=None, init=False)
    """The token of the optimizer that asked for the trial (see `PendingTrials.issue`); it
    travels with pickled copies, so a report that comes back from a worker is still known."""
    _link: ProgressLink | None = field(default=None, init=False)
    _progress: tuple[float, dict[str, Any]] | None = field(default=None, init=False)
    _stop: bool = field(default=False, init=False)

    if TYPE_CHECKING:
        Report: TypeAlias = Report
        """`byop.optimization.Report`: what a trial ends with, one of the three below."""
        SuccessReport: TypeAlias = SuccessReport
        """`byop.optimization.SuccessReport`: what `Trial.success` returns."""
        FailReport: TypeAlias = FailReport
        """`byop.optimization.FailReport`: what `Trial.fail` returns."""
        CrashReport: TypeAlias = CrashReport
        """`byop.optimization.CrashReport`: a trial that raised or whose worker died."""
        PrunedReport: TypeAlias = PrunedReport
        """`byop.optimization.PrunedReport`: a trial stopped early (`Trial.prune`)."""
        Task: TypeAlias = TrialTask
        """`byop.scheduling.TrialTask`: runs an objective on trials, on a scheduler."""
    else:
        Report = Report
        SuccessReport = SuccessReport
        FailReport = FailReport
        CrashReport = CrashReport
        PrunedReport = PrunedReport
        Task = _TaskAlias()

    def __attrs_post_init__(self) -> None:
        fidelities = self.fidelities
        if fidelities and self.budget is None and len(fidelities) == 1:
            (self.budget,) = fidelities.values()

    # ------------------------------------------------------------------ running
    def begin(self) -> _Begin:
        """Mark where the trial's work begins: times it, and catches its exceptions.

        An exception raised inside the block is kept on the trial; the code after the block
        runs, and `fail` puts the exception and its traceback on the `FailReport`. The trial
        has failed: `success` then raises `TrialFailedError`, and when the objective runs in a
        `Trial.Task` and returns without a report (the block's ``return`` was never reached),
        or raises after the block, its report is that same `FailReport` (a limit breach inside
        the block fires the limit's event as well). A new ``begin()`` block starts afresh.

        Example:
            ```python
            from byop.optimization import Trial

            trial = Trial(name="t", config={"x": 0.0})
            with trial.begin():
                1 / trial.config["x"]
            report = trial.fail()
            assert isinstance(report.exception, ZeroDivisionError)
            ```
        """
        return _Begin(self)

    # ------------------------------------------------------------------ crossing processes
    def start(self) -> None:
        """Start the trial's clock, unless ``begin()`` started it (called where the trial runs).

        A runner calls it just before the objective, so that a trial whose objective never
        enters ``begin()`` is still timed from its start.
        """
        if self._timer is None:
            self._timer = Timer()

    def times(self) -> tuple[TimeInterval, TimeInterval]:
        """The wall-clock and CPU intervals of the trial so far (or of its ``begin()`` block).

        Once the trial has reported, they are the intervals of its report.
        """
        if self._times is not None:
            return self._times
        if self._timer is not None:
            return self._timer.stop()
        return (TimeInterval.instant(TimeKind.WALL), TimeInterval.instant(TimeKind.CPU))

    def _final_times(self) -> tuple[TimeInterval, TimeInterval]:
        """`times`, kept: the clock stops at the trial's report.

        So the end of ``begin()``'s block does not read the clocks again.
        """
        times = self._times
        if times is None:
            timer = self._timer
            if timer is None:
                return self.times()
            times = self._times = timer.stop()
        return times

    def end(
        self,
        status: ReportStatus,
        exception: BaseException | None = None,
        traceback: str | None = None,
        *,
        results: Mapping[str, Any] | None = None,
        times: tuple[TimeInterval, TimeInterval] | None = None,
    ) -> Report[Info]:
        """End the trial with a report of ``status``, replacing any report it made before.

        For what runs objectives, not for objectives (they use `success` and `fail`): an
        exception that escaped the objective, a limit breach, a worker that died.

        Args:
            status: The report's kind.
            exception: The exception that ended it, if any.
            traceback: That exception's formatted traceback.
            results: The report's results (none by default).
            times: The wall-clock and CPU intervals (by default, the trial's `times`).

        Returns:
            The trial's report, now.
        """
        wall, cpu = self.times() if times is None else times
        report = REPORT_TYPES[status](self, dict(results or {}), wall, cpu, exception, traceback)
        self._report = report
        return report

    def receive(self, payload: ReportPayload | tuple[Any, ...]) -> Report[Info]:
        """The trial's report, from the payload its worker sent back; the trial keeps it.

        ``payload`` is a `ReportPayload`, or a plain tuple of its fields in order (what the
        process back end sends: it pickles smaller and faster). When the trial ran in this
        process, its own report is the one the payload was made of, and is returned as it is.
        """
        try:
            status, results, wall0, wall1, wall_d, cpu0, cpu1, cpu_d, exception, tb = payload
        except (TypeError, ValueError):
            raise TypeError(
                f"Trial {self.name!r} received {type(payload).__name__} {payload!r:.80}; "
                "receive() takes the ReportPayload that Report.payload() made (or the tuple of "
                "its ten fields)."
            ) from None
        current = self._report
        if current is not None and current.results is results and current.exception is exception:
            return current
        try:
            kind = _BY_VALUE[status]
        except (KeyError, TypeError):
            raise ValueError(
                f"Trial {self.name!r} received a payload with status {status!r}; expected one "
                f"of {', '.join(repr(s.value) for s in ReportStatus)}."
            ) from None
        report = kind(
            self,
            results,
            TimeInterval(wall0, wall1, wall_d, TimeKind.WALL),
            TimeInterval(cpu0, cpu1, cpu_d, TimeKind.CPU),
            exception,
            tb,
        )
        self._report = report
        return report

    # ------------------------------------------------------------------ reporting
    def _finish(self, report: Report[Info]) -> Report[Info]:
        if self._report is not None:
            raise TrialAlreadyReportedError(
                f"Trial {self.name!r} already has a {self._report.status.value} report; a trial "
                "reports once. Return the report of the first call to success(), fail() or "
                "crashed() instead of calling another."
            )
        self._report = report
        return report

    def success(self, **results: Any) -> SuccessReport[Info]:
        """End the trial as a success with the given results, e.g. ``cost=0.1``.

        Raises:
            TrialFailedError: ``begin()`` caught an exception: the trial failed, so end it
                with `fail` (which keeps the exception) instead.
        """
        caught = self._exception
        if caught is not None:
            raise TrialFailedError(
                f"Trial {self.name!r} cannot succeed: its begin() block caught "
                f"{type(caught).__name__}: {caught}. End it with `return trial.fail()`, whose "
                "report carries the exception and its traceback."
            ) from caught
        wall, cpu = self._final_times()
        report: SuccessReport[Info] = SuccessReport(self, results, wall, cpu)
        self._finish(report)
        return report

    def fail(self, **results: Any) -> FailReport[Info]:
        """End the trial as a failure, with the exception ``begin()`` caught, if any."""
        wall, cpu = self._final_times()
        report: FailReport[Info] = FailReport(
            self, results, wall, cpu, self._exception, self._traceback
        )
        self._finish(report)
        return report

    def crashed(
        self, exception: BaseException | None = None, traceback: str | None = None
    ) -> CrashReport[Info]:
        """End the trial as crashed: nothing came back but (possibly) an exception.

        Without ``exception``, the exception ``begin()`` caught (if any) is the crash's.
        """
        if exception is None and self._exception is not None:
            exception, traceback = self._exception, self._traceback
        if traceback is None and exception is not None and exception.__traceback__ is not None:
            traceback = "".join(_tb.format_exception(exception))
        wall, cpu = self._final_times()
        report: CrashReport[Info] = CrashReport(self, {}, wall, cpu, exception, traceback)
        self._finish(report)
        return report

    # ------------------------------------------------------------------ progress
    def report_progress(self, step: float, **values: float) -> bool:
        """Send intermediate values (at ``step``: an epoch, a number of samples...).

        They reach the process running the optimization, on any back end, where a pruner or
        the optimizer decides whether the trial should stop; the answer is returned. Stop by
        returning ``trial.prune()`` (or raising `TrialPruned`, see `raise_if_pruned`): the
        trial's report is then a `PrunedReport` with these values. Once told to stop, a
        trial is not asked about again (later calls return ``True`` at once). Run outside
        `byop.run.optimize` and `Trial.Task` (nothing listens), it keeps the values and
        returns ``False``.

        Args:
            step: Where the trial is, increasing from one call to the next (a number).
            **values: Metrics so far, e.g. ``cost=0.3`` (numbers).

        Returns:
            Whether the trial should stop.

        Raises:
            TypeError: ``step`` or a value is not a number.
            TrialAlreadyReportedError: The trial has its report already.

        Example:
            ```python
            from byop.optimization import Trial

            trial = Trial(name="t", config={"lr": 0.1})
            for epoch in range(1, 4):
                loss = 1.0 / epoch
                if trial.report_progress(epoch, cost=loss):
                    break
            assert trial.success(cost=loss)["cost"] == 1 / 3
            ```
        """
        if self._report is not None:
            raise TrialAlreadyReportedError(
                f"Trial {self.name!r} already has a {self._report.status.value} report: "
                "report progress before success(), fail() or prune()."
            )
        step = check_progress(self.name, step, values)
        self._progress = (step, values)
        if self._stop:
            return True
        link = self._link
        if link is None:
            return False
        self._stop = bool(link(self, step, values))
        return self._stop

    @property
    def should_stop(self) -> bool:
        """Whether the last `report_progress` was answered: stop."""
        return self._stop

    def raise_if_pruned(self) -> None:
        """Raise `TrialPruned` if the trial was told to stop: an objective lets it propagate.

        Example:
            ```python
            from byop.optimization import Trial, TrialPruned

            trial = Trial(name="t", config={})
            trial.report_progress(1, cost=0.9)
            trial.raise_if_pruned()  # nothing listens here: never told to stop
            ```
        """
        if self._stop:
            step = "" if self._progress is None else f" at step {self._progress[0]:g}"
            raise TrialPruned(f"trial {self.name!r} was told to stop{step}")

    def prune(self) -> PrunedReport[Info]:
        """End the trial as pruned (stopped early), with the values it last reported.

        Returns:
            Its `PrunedReport`, whose results are those values and ``step``.
        """
        results: dict[str, Any] = {}
        if self._progress is not None:
            step, values = self._progress
            results = {**values, STEP: step}
        wall, cpu = self._final_times()
        report: PrunedReport[Info] = PrunedReport(self, results, wall, cpu)
        self._finish(report)
        return report

    def listen(self, link: ProgressLink | None) -> None:
        """Send this trial's `report_progress` to ``link`` (for what runs trials).

        ``link(trial, step, values) -> bool`` carries the values to where they are judged and
        returns the answer. A link with a true ``portable`` attribute travels with the trial
        when it is pickled; any other stays in this process.
        """
        self._link = link

    @property
    def progress(self) -> tuple[float, dict[str, Any]] | None:
        """The last `report_progress`: its step and values, if any."""
        return self._progress

    # ------------------------------------------------------------------ state
    @property
    def report(self) -> Report[Info] | None:
        """The trial's report, once it has one."""
        return self._report

    @property
    def exception(self) -> BaseException | None:
        """The exception ``begin()`` caught, if any."""
        return self._exception

    @property
    def traceback(self) -> str | None:
        """The formatted traceback of `exception`, if any."""
        return self._traceback

    # ------------------------------------------------------------------ dunder
    def _key(self) -> tuple[Any, ...]:
        return (self.name, self.config, self.info, self.seed, self.budget, dict(self.fidelities))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trial):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Trial(name={self.name!r}, config={dict(self.config)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        args: tuple[Any, ...] = (self.name, self.config, self.info, self.seed, self.budget)
        if self.fidelities:
            args = (*args, dict(self.fidelities))
        link = self._link
        if link is not None and getattr(link, "portable", False) and self._report is None:
            return (Trial, args, (None, self._exception, self._traceback, self._asked_by, link))
        if self._report is None and self._exception is None:
            if self._asked_by is None:
                return (Trial, args)
            return (Trial, args, self._asked_by)
        return (Trial, args, (self._report, self._exception, self._traceback, self._asked_by))

    def __setstate__(self, state: int | tuple[Any, ...]) -> None:
        if isinstance(state, int):
            self._asked_by = state
        elif len(state) == 5:
            self._report, self._exception, self._traceback, self._asked_by, self._link = state
        else:
            self._report, self._exception, self._traceback, self._asked_by = state
