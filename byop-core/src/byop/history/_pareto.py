"""The Pareto front of several objectives: the trials no other trial beats on every metric."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from byop.history._history import metric_value
from byop.optimization import Metric, Report


def pareto_front(reports: Iterable[Report[Any]], metrics: Sequence[Metric]) -> list[Report[Any]]:
    """The successful reports that no other dominates, in the order they were given.

    A report dominates another when it is at least as good on every metric and better on one
    (each metric's direction counts). Reports without a number for every metric take no part;
    of several with the very same values, the first stands for them all.

    Example:
        ```python
        from byop.history import pareto_front
        from byop.optimization import Metric, Trial

        metrics = [Metric("loss"), Metric("accuracy", minimize=False)]
        reports = [
            Trial(name=n, config={}).success(loss=loss, accuracy=acc)
            for n, loss, acc in [("a", 1.0, 0.9), ("b", 2.0, 0.95), ("c", 2.0, 0.8)]
        ]
        assert [r.trial.name for r in pareto_front(reports, metrics)] == ["a", "b"]
        ```
    """
    if not metrics:
        raise ValueError("A Pareto front needs at least one metric.")
    points: list[tuple[tuple[float, ...], Report[Any]]] = []
    for report in reports:
        values = [metric_value(report, m) for m in metrics]
        if any(v is None for v in values):
            continue
        costs = tuple(m.as_cost(v) for m, v in zip(metrics, values, strict=True) if v is not None)
        points.append((costs, report))
    # Sorted by the costs, a point can only be dominated by one before it: one pass, each point
    # checked against the front found so far.
    order = sorted(range(len(points)), key=lambda i: points[i][0])
    front: list[int] = []
    for i in order:
        costs = points[i][0]
        if not any(_dominates_or_equals(points[j][0], costs) for j in front):
            front.append(i)
    return [points[i][1] for i in sorted(front)]


def _dominates_or_equals(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True))


def _costs(report: Report[Any], metrics: Sequence[Metric]) -> tuple[float, ...] | None:
    values = [metric_value(report, m) for m in metrics]
    if any(v is None for v in values):
        return None
    return tuple(m.as_cost(v) for m, v in zip(metrics, values, strict=True) if v is not None)


class ParetoFront:
    """A Pareto front kept up to date as reports arrive (what the progress display shows).

    Each `add` costs one pass over the front, not over every report.

    Args:
        metrics: The metrics, each with its direction.
        reports: Reports to start from.

    Example:
        ```python
        from byop.history import ParetoFront
        from byop.optimization import Metric, Trial

        front = ParetoFront([Metric("loss"), Metric("accuracy", minimize=False)])
        assert front.add(Trial(name="a", config={}).success(loss=1.0, accuracy=0.9))
        assert front.add(Trial(name="b", config={}).success(loss=2.0, accuracy=0.95))
        assert not front.add(Trial(name="c", config={}).success(loss=2.0, accuracy=0.8))
        assert [r.trial.name for r in front] == ["a", "b"]
        ```
    """

    def __init__(self, metrics: Sequence[Metric], reports: Iterable[Report[Any]] = ()) -> None:
        if not metrics:
            raise ValueError("A Pareto front needs at least one metric.")
        self.metrics = tuple(metrics)
        self._front: list[tuple[tuple[float, ...], Report[Any]]] = []
        for report in reports:
            self.add(report)

    def add(self, report: Report[Any]) -> bool:
        """Take a report; whether it joined the front (a success no member dominates)."""
        costs = _costs(report, self.metrics)
        if costs is None:
            return False
        front = self._front
        if any(_dominates_or_equals(member, costs) for member, _ in front):
            return False
        self._front = [(m, r) for m, r in front if not _dominates_or_equals(costs, m)]
        self._front.append((costs, report))
        return True

    @property
    def members(self) -> list[Report[Any]]:
        """The front's reports, in the order they joined it."""
        return [r for _, r in self._front]

    def __len__(self) -> int:
        return len(self._front)

    def __iter__(self) -> Iterator[Report[Any]]:
        return iter(self.members)


def describe_front(
    front: Sequence[Report[Any]], metrics: Sequence[Metric], *, limit: int = 10
) -> list[str]:
    """Lines on a Pareto front: its size and metrics, then one line per member (``limit``).

    What the summary of a run with several metrics shows in place of its best trial. Members
    are listed best first on the first metric.

    Example:
        ```python
        from byop.history import describe_front
        from byop.optimization import Metric, Trial

        metrics = [Metric("loss"), Metric("accuracy", minimize=False)]
        front = [Trial(name="a", config={}).success(loss=1.0, accuracy=0.9)]
        lines = describe_front(front, metrics)
        assert lines[0] == "pareto front  1 trial on loss (min), accuracy (max)"
        assert lines[1] == "  a  loss = 1  accuracy = 0.9"
        ```
    """
    on = ", ".join(f"{m.name} ({'min' if m.minimize else 'max'})" for m in metrics)
    if not front:
        return [f"pareto front  none: no successful trial reported {on}"]
    n = len(front)
    lines = [f"pareto front  {n} trial{'s' if n != 1 else ''} on {on}"]
    first = metrics[0]
    ordered = sorted(front, key=lambda r: first.as_cost(metric_value(r, first) or 0.0))
    for report in ordered[:limit]:
        values = "  ".join(f"{m.name} = {_short(report.results.get(m.name))}" for m in metrics)
        lines.append(f"  {report.trial.name}  {values}")
    if n > limit:
        lines.append(f"  ... and {n - limit} more (History.pareto_front() has them all)")
    return lines


def _short(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def front_status(front: ParetoFront, joined: Report[Any] | None = None) -> str:
    """A few words on a front for a progress line: its size, and the trial that just joined.

    Example:
        ```python
        from byop.history import ParetoFront, front_status
        from byop.optimization import Metric, Trial

        front = ParetoFront([Metric("loss"), Metric("size")])
        report = Trial(name="a", config={}).success(loss=1.0, size=3)
        front.add(report)
        assert front_status(front, report) == "pareto front 1 trial (a joined: loss 1, size 3)"
        ```
    """
    n = len(front)
    text = f"pareto front {n} trial{'s' if n != 1 else ''}"
    if joined is not None:
        values = ", ".join(f"{m.name} {_short(joined.results.get(m.name))}" for m in front.metrics)
        text += f" ({joined.trial.name} joined: {values})"
    return text
