"""Checking what an objective reported against the declared metrics.

An objective may return its trial's report, or simply a number or a dictionary of results (as
an Optuna user's first objective does): `results_of` turns the latter into results. A success
whose metric value is not a finite number (NaN, infinity, a string) is made a failure with
`InvalidMetricValueError` by `check_metrics`, so that no optimizer is told a value it cannot
take, and no store holds a success that cannot be told again on resume.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from byop.optimization._optimizer import Metric
from byop.optimization._report import Report, ReportStatus, SuccessReport


class MissingMetricError(LookupError):
    """A successful report lacks a declared metric.

    `byop.run.optimize` raises it when the first successful report of a run lacks one: every
    later trial would lack it too. The message names the metric and the keys reported.

    Attributes:
        metric: The missing metric's name.
        reported: The keys the report has.
    """

    def __init__(self, message: str, *, metric: str, reported: Sequence[str]) -> None:
        super().__init__(message)
        self.metric = metric
        self.reported = tuple(reported)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_missing, (self.args[0], self.metric, self.reported))


def _missing(message: str, metric: str, reported: Sequence[str]) -> MissingMetricError:
    return MissingMetricError(message, metric=metric, reported=reported)


class InvalidMetricValueError(ValueError):
    """A metric's value is not a finite number (NaN, infinity, a string...): the trial failed."""


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` is a real number (not a bool) and finite.

    Example:
        ```python
        from byop.optimization import is_finite_number

        assert is_finite_number(0.5) and is_finite_number(3)
        assert not is_finite_number(float("nan")) and not is_finite_number("0.5")
        ```
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except (TypeError, ValueError, OverflowError):
        return False


def missing_metric(report: Report[Any], metrics: Sequence[Metric]) -> MissingMetricError | None:
    """The error for the first declared metric a successful report lacks, if any."""
    if report.status is not ReportStatus.SUCCESS:
        return None
    for metric in metrics:
        if metric.name not in report.results:
            keys = ", ".join(repr(k) for k in report.results) or "nothing"
            declared = ", ".join(repr(m.name) for m in metrics)
            return MissingMetricError(
                f"Trial {report.trial.name!r} succeeded without the metric {metric.name!r}: it "
                f"reported {keys}, and the run's metrics are {declared}. Report every metric "
                f"(trial.success({metric.name}=...)), or declare the metrics the objective "
                "reports with optimize(..., metrics=...).",
                metric=metric.name,
                reported=list(report.results),
            )
    return None


def check_metrics(report: Report[Any], metrics: Sequence[Metric]) -> Report[Any]:
    """``report``, or, for a success with a missing or non-finite metric, a failure in its place.

    The failure keeps the results and carries `MissingMetricError` or
    `InvalidMetricValueError`; it becomes the trial's report. Failures and crashes are returned
    as they are.

    Example:
        ```python
        from byop.optimization import InvalidMetricValueError, Metric, Trial, check_metrics

        trial = Trial(name="t", config={})
        checked = check_metrics(trial.success(cost=float("nan")), [Metric("cost")])
        assert isinstance(checked, Trial.FailReport)
        assert isinstance(checked.exception, InvalidMetricValueError)
        ```
    """
    if not isinstance(report, SuccessReport):
        return report
    error: Exception | None = missing_metric(report, metrics)
    if error is None:
        for metric in metrics:
            value = report.results[metric.name]
            if not is_finite_number(value):
                error = InvalidMetricValueError(
                    f"Trial {report.trial.name!r} reported {metric.name}={value!r}, which is "
                    "not a finite number: the trial counts as failed. Return a finite number, "
                    "or end the trial with trial.fail() when it has no value."
                )
                break
    if error is None:
        return report
    return report.trial.end(
        ReportStatus.FAIL,
        error,
        f"{type(error).__name__}: {error}\n",
        results=report.results,
        times=(report.time, report.cpu_time),
    )


def results_of(value: Any, metrics: Sequence[str] = ("cost",)) -> dict[str, Any] | None:
    """The results an objective meant by returning ``value`` instead of a report.

    A number is the value of the one metric (the first of ``metrics``); a mapping with string
    keys is the results. Anything else: ``None``.

    Raises:
        ValueError: A number was returned while several metrics are declared.

    Example:
        ```python
        from byop.optimization import results_of

        assert results_of(0.5, ["accuracy"]) == {"accuracy": 0.5}
        assert results_of({"loss": 1.0}) == {"loss": 1.0}
        assert results_of("oops") is None
        ```
    """
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return dict(value)
        return None
    if isinstance(value, bool):
        return None  # True is no metric's value
    if isinstance(value, numbers.Real):
        if len(metrics) > 1:
            raise ValueError(
                f"The objective returned the number {value!r}, but {len(metrics)} metrics are "
                f"declared ({', '.join(metrics)}): return a dictionary with each, e.g. "
                f"{{{', '.join(repr(m) + ': ...' for m in metrics)}}}."
            )
        return {metrics[0] if metrics else "cost": value}
    return None
