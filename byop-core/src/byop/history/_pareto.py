"""The Pareto front of several objectives: the trials no other trial beats on every metric."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
