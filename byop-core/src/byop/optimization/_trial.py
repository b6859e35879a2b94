"""Trials and their reports.

A `Trial` is one configuration an optimizer wants evaluated. The objective runs it and ends it
with exactly one report: `Trial.success` gives a `SuccessReport`, `Trial.fail` a `FailReport`,
and a crash a `CrashReport`.
"""

from __future__ import annotations

import traceback as _tb
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeAlias, TypeVar

from attrs import define, field

from byop.optimization._errors import TrialAlreadyReportedError, TrialFailedError
from byop.optimization._exceptions import exception_key, portable
from byop.optimization._time import TimeInterval, TimeKind, Timer

if TYPE_CHECKING:
    from byop.scheduling import TrialTask

Info = TypeVar("Info")


class ReportStatus(StrEnum):
    """How a trial ended."""

    SUCCESS = "success"
    FAIL = "fail"
    CRASHED = "crashed"


class ReportPayload(NamedTuple):
    """A report without its trial: what a worker sends back to the process that owns the trial.

    The trial (its config and info) never travels back: the main process keeps it, and turns
    the payload into the trial's `Report` with `Trial.receive`. Plain values only, so it
    pickles small and fast; `Report.payload` makes one.

    Example:
        ```python
        from byop.optimization import Trial

        worker_side = Trial(name="t", config={"x": 2.0})
        payload = worker_side.success(cost=4.0).payload()

        main_side = Trial(name="t", config={"x": 2.0})
        report = main_side.receive(payload)
        assert report["cost"] == 4.0 and main_side.report is report
        ```
    """

    status: str
    """The `ReportStatus` value: ``"success"``, ``"fail"`` or ``"crashed"``."""
    results: dict[str, Any]
    wall_start: float
    wall_end: float
    wall_duration: float
    cpu_start: float
    cpu_end: float
    cpu_duration: float
    exception: BaseException | None
    """The exception, as itself when it pickles, else a `ForeignException` describing it."""
    traceback: str | None


@define(frozen=True, eq=False, slots=True, repr=False)
class Report(Generic[Info]):
    """How a trial ended: its results, times and, if one was caught, the exception.

    Use one of the three kinds: `SuccessReport`, `FailReport` or `CrashReport`.

    Attributes:
        trial: The trial this reports on.
        results: What the objective reported, e.g. ``{"cost": 0.3}``.
        time: The wall-clock interval of the trial (`TimeKind.WALL`).
        cpu_time: The process CPU time of the trial (`TimeKind.CPU`).
        exception: The exception that was caught, if any.
        traceback: That exception's formatted traceback, if any.
    """

    trial: Trial[Info]
    results: dict[str, Any]
    time: TimeInterval
    cpu_time: TimeInterval
    exception: BaseException | None = None
    traceback: str | None = None

    status: ClassVar[ReportStatus]

    def __getitem__(self, key: str) -> Any:
        """``report["cost"]`` reads ``report.results["cost"]``."""
        try:
            return self.results[key]
        except KeyError:
            have = ", ".join(repr(k) for k in self.results) or "none"
            raise KeyError(
                f"Trial {self.trial.name!r} ({self.status.value}) reported no result {key!r}; "
                f"it reported: {have}."
            ) from None

    def _key(self) -> tuple[Any, ...]:
        return (
            type(self),
            self.trial,
            self.results,
            self.time,
            self.cpu_time,
            exception_key(self.exception),
            self.traceback,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Report):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        extra = f", exception={self.exception!r}" if self.exception is not None else ""
        return (
            f"{type(self).__name__}(trial={self.trial.name!r}, results={self.results!r}, "
            f"duration={self.time.duration:.4g}s{extra})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.trial, self.results, self.time, self.cpu_time, self.exception, self.traceback),
        )

    def payload(self) -> ReportPayload:
        """This report without its trial, to send to the process that owns the trial."""
        wall, cpu = self.time, self.cpu_time
        return ReportPayload(
            self.status.value,
            self.results,
            wall.start,
            wall.end,
            wall.duration,
            cpu.start,
            cpu.end,
            cpu.duration,
            portable(self.exception),
            self.traceback,
        )


@define(frozen=True, eq=False, slots=True, repr=False)
class SuccessReport(Report[Info]):
    """The objective succeeded: ``trial.success(**results)``."""

    status: ClassVar[ReportStatus] = ReportStatus.SUCCESS


@define(frozen=True, eq=False, slots=True, repr=False)
class FailReport(Report[Info]):
    """The objective failed: ``trial.fail(**results)``, or an exception caught by ``begin()``."""

    status: ClassVar[ReportStatus] = ReportStatus.FAIL


@define(frozen=True, eq=False, slots=True, repr=False)
class CrashReport(Report[Info]):
    """The objective crashed: an exception escaped it, or its worker died."""

    status: ClassVar[ReportStatus] = ReportStatus.CRASHED


REPORT_TYPES: dict[ReportStatus, type[Report[Any]]] = {
    ReportStatus.SUCCESS: SuccessReport,
    ReportStatus.FAIL: FailReport,
    ReportStatus.CRASHED: CrashReport,
}


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
        if exc is None or not isinstance(exc, Exception):
            return False  # KeyboardInterrupt, SystemExit and the like are not the trial's
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

    if TYPE_CHECKING:
        Report: TypeAlias = Report
        SuccessReport: TypeAlias = SuccessReport
        FailReport: TypeAlias = FailReport
        CrashReport: TypeAlias = CrashReport
        Task: TypeAlias = TrialTask
    else:
        Report = Report
        SuccessReport = SuccessReport
        FailReport = FailReport
        CrashReport = CrashReport
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
        """The wall-clock and CPU intervals of the trial so far (or of its ``begin()`` block)."""
        if self._times is not None:
            return self._times
        if self._timer is not None:
            return self._timer.stop()
        return (TimeInterval.instant(TimeKind.WALL), TimeInterval.instant(TimeKind.CPU))

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

    def receive(self, payload: ReportPayload) -> Report[Info]:
        """The trial's report, from the payload its worker sent back; the trial keeps it.

        When the trial ran in this process, its own report is the one the payload was made of,
        and is returned as it is.
        """
        current = self._report
        if (
            current is not None
            and current.results is payload.results
            and current.exception is payload.exception
        ):
            return current
        report = REPORT_TYPES[ReportStatus(payload.status)](
            self,
            payload.results,
            TimeInterval(
                payload.wall_start, payload.wall_end, payload.wall_duration, TimeKind.WALL
            ),
            TimeInterval(payload.cpu_start, payload.cpu_end, payload.cpu_duration, TimeKind.CPU),
            payload.exception,
            payload.traceback,
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
        wall, cpu = self.times()
        report: SuccessReport[Info] = SuccessReport(self, results, wall, cpu)
        self._finish(report)
        return report

    def fail(self, **results: Any) -> FailReport[Info]:
        """End the trial as a failure, with the exception ``begin()`` caught, if any."""
        wall, cpu = self.times()
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
        wall, cpu = self.times()
        report: CrashReport[Info] = CrashReport(self, {}, wall, cpu, exception, traceback)
        self._finish(report)
        return report

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
        if self._report is None and self._exception is None:
            if self._asked_by is None:
                return (Trial, args)
            return (Trial, args, self._asked_by)
        return (Trial, args, (self._report, self._exception, self._traceback, self._asked_by))

    def __setstate__(self, state: int | tuple[Any, ...]) -> None:
        if isinstance(state, int):
            self._asked_by = state
        else:
            self._report, self._exception, self._traceback, self._asked_by = state
