"""Trials and their reports.

A `Trial` is one configuration an optimizer wants evaluated. The objective runs it and ends it
with exactly one report: `Trial.success` gives a `SuccessReport`, `Trial.fail` a `FailReport`,
and a crash a `CrashReport`.
"""

from __future__ import annotations

import traceback as _tb
from collections.abc import Mapping
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeAlias, TypeVar

from attrs import define, field

from byop.optimization._errors import TrialAlreadyReportedError
from byop.optimization._exceptions import exception_key
from byop.optimization._time import TimeInterval, TimeKind, Timer

if TYPE_CHECKING:
    from byop.scheduling import TrialTask

Info = TypeVar("Info")


class ReportStatus(StrEnum):
    """How a trial ended."""

    SUCCESS = "success"
    FAIL = "fail"
    CRASHED = "crashed"


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
        self._trial._timer = Timer()
        self._trial._times = None

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
        budget: The fidelity to evaluate at (epochs, samples...), for multi-fidelity optimizers.

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

    _report: Report[Info] | None = field(default=None, init=False)
    _exception: BaseException | None = field(default=None, init=False)
    _traceback: str | None = field(default=None, init=False)
    _timer: Timer | None = field(default=None, init=False)
    _times: tuple[TimeInterval, TimeInterval] | None = field(default=None, init=False)

    if TYPE_CHECKING:
        Report: TypeAlias = Report
        """`byop.optimization.Report`: what a trial ends with, one of the three below."""
        SuccessReport: TypeAlias = SuccessReport
        """`byop.optimization.SuccessReport`: what `Trial.success` returns."""
        FailReport: TypeAlias = FailReport
        """`byop.optimization.FailReport`: what `Trial.fail` returns."""
        CrashReport: TypeAlias = CrashReport
        """`byop.optimization.CrashReport`: a trial that raised or whose worker died."""
        Task: TypeAlias = TrialTask
        """`byop.scheduling.TrialTask`: runs an objective on trials, on a scheduler."""
    else:
        Report = Report
        SuccessReport = SuccessReport
        FailReport = FailReport
        CrashReport = CrashReport
        Task = _TaskAlias()

    # ------------------------------------------------------------------ running
    def begin(self) -> _Begin:
        """Mark where the trial's work begins: times it, and catches its exceptions.

        An exception raised inside the block is kept on the trial; the code after the block
        runs, and `fail` puts the exception and its traceback on the `FailReport`.

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

    def _start(self) -> None:
        """Start the trial's clock if ``begin()`` is not used (called by the task runner)."""
        if self._timer is None:
            self._timer = Timer()

    def _intervals(self) -> tuple[TimeInterval, TimeInterval]:
        if self._times is not None:
            return self._times
        if self._timer is not None:
            return self._timer.stop()
        return (TimeInterval.instant(TimeKind.WALL), TimeInterval.instant(TimeKind.CPU))

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
        """End the trial as a success with the given results, e.g. ``cost=0.1``."""
        wall, cpu = self._intervals()
        report: SuccessReport[Info] = SuccessReport(self, results, wall, cpu)
        self._finish(report)
        return report

    def fail(self, **results: Any) -> FailReport[Info]:
        """End the trial as a failure, with the exception ``begin()`` caught, if any."""
        wall, cpu = self._intervals()
        report: FailReport[Info] = FailReport(
            self, results, wall, cpu, self._exception, self._traceback
        )
        self._finish(report)
        return report

    def crashed(
        self, exception: BaseException | None = None, traceback: str | None = None
    ) -> CrashReport[Info]:
        """End the trial as crashed: nothing came back but (possibly) an exception."""
        if traceback is None and exception is not None and exception.__traceback__ is not None:
            traceback = "".join(_tb.format_exception(exception))
        wall, cpu = self._intervals()
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
        return (self.name, self.config, self.info, self.seed, self.budget)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trial):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Trial(name={self.name!r}, config={dict(self.config)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.name, self.config, self.info, self.seed, self.budget)
        if self._report is None and self._exception is None:
            return (Trial, args)
        return (Trial, args, (self._report, self._exception, self._traceback))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self._report, self._exception, self._traceback = state
