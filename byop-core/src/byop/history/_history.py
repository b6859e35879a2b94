"""The reports of a run, in the order they arrived."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from attrs import frozen

from byop.history._errors import DuplicateReportError, NoBestTrialError, SeveralMetricsError
from byop.optimization import Metric, Report, ReportStatus, as_metrics, exception_key

if TYPE_CHECKING:
    import pandas as pd

CONFIG_PREFIX = "config:"
"""Prefix of the configuration columns of `History.records` and `History.df`."""

RESULTS_PREFIX = "results:"
"""Prefix of the results columns of `History.records` and `History.df`."""


@frozen
class TracePoint:
    """One step of the best-so-far trace: a finished trial, and the best value up to it.

    Attributes:
        number: The trial's position in order of completion, from 1.
        name: The trial's name.
        status: How the trial ended.
        elapsed: Seconds from the start of the run's first trial to the end of this one.
        value: This trial's value of the metric; ``None`` unless it succeeded with a number.
        best: The best value of the successful trials so far; ``None`` until the first.
        best_name: The name of the trial that has ``best``.
    """

    number: int
    name: str
    status: ReportStatus
    elapsed: float
    value: float | None
    best: float | None
    best_name: str | None


def metric_value(report: Report[Any], metric: Metric) -> float | None:
    """The report's value of ``metric`` when it counts towards the best: else ``None``.

    Only successful reports count, with a real number (not ``NaN``) for the metric.
    """
    if report.status is not ReportStatus.SUCCESS:
        return None
    raw = report.results.get(metric.name)
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _better(metric: Metric, a: float, b: float) -> bool:
    """Whether ``a`` is strictly better than ``b``."""
    return a < b if metric.minimize else a > b


class History:
    """The reports of a run, in the order they arrived, with the best trial and its trace.

    Each trial appears once: adding a second report of a trial with the same name is an error.

    Args:
        reports: Reports to start with.
        metrics: The metrics the objective reports (``cost`` minimised by default); the first
            is what `best` and `trace` use unless told otherwise.

    Example:
        ```python
        from byop.history import History
        from byop.optimization import RandomSearch

        rs = RandomSearch(space={"x": (-5.0, 5.0)}, seed=1)
        history = History()
        for _ in range(10):
            trial = rs.ask()
            with trial.begin():
                report = trial.success(cost=trial.config["x"] ** 2)
            history.add(report)

        best = history.best()
        assert best["cost"] == min(r["cost"] for r in history)
        assert history.trace()[-1].best == best["cost"]
        ```
    """

    def __init__(
        self,
        reports: Iterable[Report[Any]] = (),
        *,
        metrics: Metric | str | Iterable[Metric | str] | None = None,
    ) -> None:
        self.metrics: tuple[Metric, ...] = as_metrics(metrics)
        self._reports: list[Report[Any]] = []
        self._by_name: dict[str, Report[Any]] = {}
        self.extend(reports)

    # ------------------------------------------------------------------ building
    def add(self, report: Report[Any]) -> None:
        """Add the report of a trial not in the history yet.

        Raises:
            DuplicateReportError: A report of a trial with this name is already in.
            TypeError: ``report`` is not a report.
        """
        if not isinstance(report, Report):
            raise TypeError(
                f"History holds reports (trial.success(), .fail(), .crashed()), got "
                f"{type(report).__name__}."
            )
        name = report.trial.name
        previous = self._by_name.get(name)
        if previous is not None:
            raise DuplicateReportError(
                f"The history already has a {previous.status.value} report of trial {name!r}; "
                "each trial is reported once. Trial names must be unique within a run."
            )
        self._by_name[name] = report
        self._reports.append(report)

    def extend(self, reports: Iterable[Report[Any]]) -> None:
        """Add several reports, in order (see `add`)."""
        for report in reports:
            self.add(report)

    @classmethod
    def load(cls, path: str | Path, *, recover: bool = False) -> History:
        """The history of a stored run (see `read_store`)."""
        from byop.history._reading import read_store

        return read_store(path, recover=recover).history

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._reports)

    def __iter__(self) -> Iterator[Report[Any]]:
        return iter(list(self._reports))

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Report):
            return self._by_name.get(item.trial.name) is item
        return item in self._by_name

    @overload
    def __getitem__(self, key: str) -> Report[Any]: ...

    @overload
    def __getitem__(self, key: int) -> Report[Any]: ...

    def __getitem__(self, key: str | int) -> Report[Any]:
        """The report of the trial named ``key``, or the ``key``-th report to arrive."""
        if isinstance(key, str):
            try:
                return self._by_name[key]
            except KeyError:
                raise KeyError(f"No trial named {key!r} in this history.") from None
        return self._reports[key]

    def __repr__(self) -> str:
        counts = ", ".join(f"{s.value}={n}" for s, n in self.counts().items() if n)
        return f"History({len(self)} reports{': ' + counts if counts else ''})"

    @property
    def reports(self) -> list[Report[Any]]:
        """The reports in the order they arrived (a copy)."""
        return list(self._reports)

    def names(self) -> list[str]:
        """The trial names, in the order their reports arrived."""
        return [r.trial.name for r in self._reports]

    def counts(self) -> dict[ReportStatus, int]:
        """How many reports of each status, every status included."""
        out = dict.fromkeys(ReportStatus, 0)
        for report in self._reports:
            out[report.status] += 1
        return out

    def filter(
        self,
        status: ReportStatus | str | Iterable[ReportStatus | str] | None = None,
        *,
        where: Callable[[Report[Any]], bool] | None = None,
    ) -> History:
        """A new history of the reports with one of the given statuses and matching ``where``.

        Example:
            ```python
            from byop.history import History
            from byop.optimization import Trial

            history = History([Trial("a", {}).success(cost=1), Trial("b", {}).fail()])
            assert history.filter("fail").names() == ["b"]
            assert history.filter(where=lambda r: r.trial.name == "a").names() == ["a"]
            ```
        """
        wanted: set[ReportStatus] | None = None
        if status is not None:
            items = [status] if isinstance(status, str) else list(status)
            wanted = set()
            for item in items:
                try:
                    wanted.add(ReportStatus(item))
                except ValueError:
                    known = ", ".join(repr(s.value) for s in ReportStatus)
                    raise ValueError(f"Unknown status {item!r}; use one of {known}.") from None
        chosen = [
            r
            for r in self._reports
            if (wanted is None or r.status in wanted) and (where is None or where(r))
        ]
        return History(chosen, metrics=self.metrics)

    # ------------------------------------------------------------------ best
    def metric(self, metric: Metric | str | None = None) -> Metric:
        """The metric named (one of the declared ones, else minimised), or the first declared."""
        if metric is None:
            return self.metrics[0]
        if isinstance(metric, Metric):
            return metric
        for declared in self.metrics:
            if declared.name == metric:
                return declared
        return Metric(metric)

    def best(self, metric: Metric | str | None = None) -> Report[Any]:
        """The successful report with the best value of ``metric``; the earliest among ties.

        Args:
            metric: A `Metric`, the name of one (a declared metric, else minimised), or
                ``None`` for the one declared metric (``cost`` by default).

        Raises:
            NoBestTrialError: No successful report has a number for the metric.
            SeveralMetricsError: ``metric`` is ``None`` and several metrics are declared:
                there is no single best trial (see `pareto_front`).
        """
        if metric is None and len(self.metrics) > 1:
            names = ", ".join(repr(m.name) for m in self.metrics)
            raise SeveralMetricsError(
                f"This history has {len(self.metrics)} metrics ({names}), so no single trial "
                "is best: history.pareto_front() gives the trials no other beats on every "
                f"metric, and history.best(metric={self.metrics[0].name!r}) the best by one."
            )
        chosen = self.metric(metric)
        best: Report[Any] | None = None
        best_value = 0.0
        for report in self._reports:
            value = metric_value(report, chosen)
            if value is not None and (best is None or _better(chosen, value, best_value)):
                best, best_value = report, value
        if best is None:
            counts = ", ".join(f"{n} {s.value}" for s, n in self.counts().items() if n)
            raise NoBestTrialError(
                f"No successful trial reported a number for {chosen.name!r} "
                f"({counts or 'no reports'}); there is no best trial yet."
            )
        return best

    def pareto_front(self, metrics: Iterable[Metric | str] | None = None) -> list[Report[Any]]:
        """The successful reports no other beats on every metric (the history's by default).

        See `byop.history.pareto_front`.
        """
        from byop.history._pareto import pareto_front

        chosen = self.metrics if metrics is None else tuple(self.metric(m) for m in metrics)
        return pareto_front(self._reports, chosen)

    def trace(self, metric: Metric | str | None = None) -> list[TracePoint]:
        """The best value so far after each trial, in order of completion.

        Trials are ordered by the end of their wall-clock interval (ties keep arrival order);
        ``elapsed`` counts from the earliest start of any trial.
        """
        chosen = self.metric(metric)
        if not self._reports:
            return []
        origin = min(r.time.start for r in self._reports)
        ordered = sorted(self._reports, key=lambda r: r.time.end)  # stable: ties keep order
        points: list[TracePoint] = []
        best: float | None = None
        best_name: str | None = None
        for number, report in enumerate(ordered, start=1):
            value = metric_value(report, chosen)
            if value is not None and (best is None or _better(chosen, value, best)):
                best, best_name = value, report.trial.name
            points.append(
                TracePoint(
                    number=number,
                    name=report.trial.name,
                    status=report.status,
                    elapsed=report.time.end - origin,
                    value=value,
                    best=best,
                    best_name=best_name,
                )
            )
        return points

    # ------------------------------------------------------------------ tables
    def columns(self) -> list[str]:
        """The keys of `records`' rows, in order (the fixed ones when there is no trial)."""
        rows = self.records()
        return list(rows[0]) if rows else list(EMPTY_COLUMNS)

    def records(self) -> list[dict[str, Any]]:
        """One flat row a trial: name, status, ``config:*``, ``results:*``, times, exception.

        Every row has the same keys (missing values are ``None``), in a stable order: name,
        status, seed, budget, the configuration's keys in order of first appearance, then the
        results', then ``time:start``, ``time:end``, ``time:duration`` (wall seconds; start and
        end since the epoch), ``cpu_time:duration`` (CPU seconds), ``exception`` (the type's
        name) and ``exception:message``.
        """
        config_keys: dict[str, None] = {}
        result_keys: dict[str, None] = {}
        for report in self._reports:
            config_keys.update(dict.fromkeys(report.trial.config))
            result_keys.update(dict.fromkeys(report.results))
        rows: list[dict[str, Any]] = []
        for report in self._reports:
            trial = report.trial
            row: dict[str, Any] = {
                "name": trial.name,
                "status": report.status.value,
                "seed": trial.seed,
                "budget": trial.budget,
            }
            for key in config_keys:
                row[CONFIG_PREFIX + key] = trial.config.get(key)
            for key in result_keys:
                row[RESULTS_PREFIX + key] = report.results.get(key)
            exc = exception_key(report.exception)
            row.update(
                {
                    "time:start": report.time.start,
                    "time:end": report.time.end,
                    "time:duration": report.time.duration,
                    "cpu_time:duration": report.cpu_time.duration,
                    "exception": None if exc is None else exc[0],
                    "exception:message": None if exc is None else exc[1],
                }
            )
            rows.append(row)
        return rows

    def df(self) -> pd.DataFrame:
        """The history as a pandas DataFrame, one row a trial (the columns of `records`).

        Times are pandas types: ``time:start`` and ``time:end`` are datetimes (UTC),
        ``time:duration`` and ``cpu_time:duration`` timedeltas (``.dt.total_seconds()`` for
        seconds). `records` keeps them as numbers. Needs pandas: ``pip install byop[pandas]``.

        Example:
            ```python
            from byop.history import History
            from byop.optimization import Trial

            df = History([Trial("a", {"x": 1.0}).success(cost=0.5)]).df()
            assert str(df["time:start"].dt.tz) == "UTC"
            assert df["time:duration"].dt.total_seconds().iloc[0] >= 0
            ```

        Raises:
            byop.plugins.MissingDependencyError: pandas is not installed.
        """
        from byop.plugins import import_optional

        pandas = import_optional("pandas", install="byop[pandas]", feature="History.df()")
        rows = self.records()
        columns = list(rows[0]) if rows else EMPTY_COLUMNS
        frame: pd.DataFrame = pandas.DataFrame.from_records(rows, columns=columns)
        for column in ("time:start", "time:end"):
            frame[column] = pandas.to_datetime(frame[column].astype(float), unit="s", utc=True)
        for column in ("time:duration", "cpu_time:duration"):
            frame[column] = pandas.to_timedelta(frame[column].astype(float), unit="s")
        return frame


EMPTY_COLUMNS = [
    "name",
    "status",
    "seed",
    "budget",
    "time:start",
    "time:end",
    "time:duration",
    "cpu_time:duration",
    "exception",
    "exception:message",
]
