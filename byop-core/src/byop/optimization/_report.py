"""Reports: how a trial ended, and the plain form a report crosses processes in."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar

from attrs import define

from byop.optimization._exceptions import exception_key, portable
from byop.optimization._time import TimeInterval

if TYPE_CHECKING:
    from byop.optimization._trial import Trial

Info = TypeVar("Info")


class ReportStatus(StrEnum):
    """How a trial ended."""

    SUCCESS = "success"
    FAIL = "fail"
    CRASHED = "crashed"
    PRUNED = "pruned"
    """Stopped early, on a pruner's or the optimizer's word (see `Trial.report_progress`)."""


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
    """The `ReportStatus` value: ``"success"``, ``"fail"``, ``"crashed"`` or ``"pruned"``."""
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

    Use one of the kinds: `SuccessReport`, `FailReport`, `CrashReport` or `PrunedReport`.

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
            f"{type(self).__name__}(trial={self.trial.name!r}, config={dict(self.trial.config)!r}, "
            f"results={self.results!r}, duration={self.time.duration:.4g}s{extra})"
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


@define(frozen=True, eq=False, slots=True, repr=False)
class PrunedReport(Report[Info]):
    """The trial was stopped early: ``trial.prune()``, or `TrialPruned` raised by its objective.

    Its ``results`` are the values of the trial's last `Trial.report_progress`, and ``step``:
    the step it reached (empty when it reported no progress).

    Example:
        ```python
        from byop.optimization import Trial

        trial = Trial(name="t", config={})
        trial.report_progress(3, cost=0.5)
        report = trial.prune()
        assert report.step == 3 and report["cost"] == 0.5
        ```
    """

    status: ClassVar[ReportStatus] = ReportStatus.PRUNED

    @property
    def step(self) -> float | None:
        """The step of the trial's last progress report, if it made one."""
        step = self.results.get(STEP)
        return None if step is None else float(step) if not isinstance(step, int) else step


STEP = "step"
"""The key of a `PrunedReport`'s results holding the step it reached (``report_progress``'s
first argument, so never one of the values reported with it)."""

REPORT_TYPES: dict[ReportStatus, type[Report[Any]]] = {
    ReportStatus.SUCCESS: SuccessReport,
    ReportStatus.FAIL: FailReport,
    ReportStatus.CRASHED: CrashReport,
    ReportStatus.PRUNED: PrunedReport,
}
_BY_VALUE: dict[str, type[Report[Any]]] = {s.value: t for s, t in REPORT_TYPES.items()}
