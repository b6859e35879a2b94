"""The Pareto front of a run with two objectives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from byop.history import History
from byop.optimization import Metric, Report
from byop.visualization._data import RunLike, direction, hover, label, resolve, value_of
from byop.visualization._plotly import COLORS, TEMPLATE, empty_figure, graph_objects

if TYPE_CHECKING:
    from plotly.graph_objects import Figure


def _metrics(history: History, metrics: Sequence[Metric | str] | None) -> tuple[Metric, ...]:
    if metrics is None:
        return history.metrics
    if isinstance(metrics, Metric | str):
        raise TypeError("metrics is a sequence of metrics or names, e.g. ['cost', 'time'].")
    chosen = tuple(history.metric(m) for m in metrics)
    if len({m.name for m in chosen}) != len(chosen):
        raise ValueError(f"The metrics must differ, got {[m.name for m in chosen]}.")
    return chosen


def pareto_front(run: RunLike, metrics: Sequence[Metric | str] | None = None) -> list[Report[Any]]:
    """The successful trials no other trial dominates, over two or more metrics.

    A trial dominates another when it is at least as good in every metric and better in one
    (each metric's direction from its `Metric`). Trials without a finite value for every
    metric are left out.

    Args:
        run: A `History`, a `StoredRun`, or the path of a run store.
        metrics: The metrics (by default the ones the run declares; at least two).

    Returns:
        The non-dominated reports, in order of the first metric, best first; among equal
        points, each is kept.

    Raises:
        ValueError: Fewer than two metrics.

    Example:
        ```python
        from byop.history import History
        from byop.optimization import Metric, Trial
        from byop.visualization import pareto_front

        points = {"a": (1.0, 5.0), "b": (2.0, 2.0), "c": (3.0, 3.0), "d": (4.0, 1.0)}
        history = History(
            [Trial(n, {}).success(error=e, latency=t) for n, (e, t) in points.items()],
            metrics=["error", "latency"],
        )
        assert [r.trial.name for r in pareto_front(history)] == ["a", "b", "d"]  # c is dominated
        ```
    """
    import numpy as np

    history = resolve(run).history
    chosen = _metrics(history, metrics)
    if len(chosen) < 2:
        raise ValueError(
            f"A Pareto front needs two or more metrics; this run declares "
            f"{[m.name for m in chosen]}. Pass metrics=['a', 'b'] or declare them in the run."
        )
    rows = []
    for report in history:
        values = [value_of(report, m) for m in chosen]
        if all(v is not None for v in values):
            rows.append(
                (
                    report,
                    [
                        v if m.minimize else -v
                        for v, m in zip(values, chosen, strict=True)
                        if v is not None
                    ],
                )
            )
    if not rows:
        return []
    costs = np.array([c for _, c in rows], dtype=np.float64)
    order = np.lexsort(costs.T[::-1])  # by the first metric, then the next ones
    keep = np.ones(len(rows), dtype=bool)
    for start in range(0, len(rows), 512):  # bounded memory: 512 rows against all at once
        block = costs[start : start + 512]
        no_worse = np.all(costs[None, :, :] <= block[:, None, :], axis=2)
        better = np.any(costs[None, :, :] < block[:, None, :], axis=2)
        keep[start : start + 512] = ~np.any(no_worse & better, axis=1)
    return [rows[i][0] for i in order if keep[i]]


def plot_pareto_front(
    run: RunLike,
    *,
    metrics: Sequence[Metric | str] | None = None,
    title: str | None = None,
) -> Figure:
    """Two metrics against each other: every successful trial, and the Pareto front.

    The front (the trials no other trial beats in both metrics) is highlighted and joined by
    a step line. A run that declares one metric shows that it has one objective, unless two
    ``metrics`` are named.

    Needs plotly: ``pip install byop[plot]``.

    Args:
        run: A `History`, a `StoredRun`, or the path of a run store.
        metrics: The two metrics, x then y (by default the two the run declares).
        title: The figure's title.

    Returns:
        A plotly figure.

    Raises:
        byop.plugins.MissingDependencyError: plotly is not installed.
        ValueError: ``metrics`` names other than two metrics.
    """
    go = graph_objects("plot_pareto_front")
    data = resolve(run)
    history = data.history
    chosen = _metrics(history, metrics)
    where = f" of {label(data.name)}" if data.name else ""
    if len(chosen) < 2:
        return empty_figure(
            go,
            title or f"Pareto front{where}",
            f"one objective: this run optimizes {label(chosen[0].name)} alone.<br>"
            "A Pareto front needs two metrics (declare metrics=[...] for the run).",
        )
    if len(chosen) > 2 and metrics is not None:
        raise ValueError(f"Plot two metrics at a time, got {[m.name for m in chosen]}.")
    x_metric, y_metric = chosen[0], chosen[1]
    heading = title or f"Pareto front{where} ({label(x_metric.name)}, {label(y_metric.name)})"
    points = [
        (r, vx, vy)
        for r in history
        if (vx := value_of(r, x_metric)) is not None and (vy := value_of(r, y_metric)) is not None
    ]
    if not points:
        return empty_figure(
            go,
            heading,
            f"no successful trial reported both {label(x_metric.name)} and "
            f"{label(y_metric.name)} yet",
        )
    front = pareto_front(history, [x_metric, y_metric])
    on_front = {r.trial.name for r in front}
    others = [p for p in points if p[0].trial.name not in on_front]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[vx for _, vx, _ in others],
            y=[vy for _, _, vy in others],
            mode="markers",
            name="trial",
            marker={"color": COLORS["trial"], "size": 6, "opacity": 0.5},
            text=[hover(r, x_metric) for r, _, _ in others],
            hoverinfo="text",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[r.results[x_metric.name] for r in front],
            y=[r.results[y_metric.name] for r in front],
            mode="lines+markers",
            line={"shape": "hv" if x_metric.minimize == y_metric.minimize else "vh"},
            name=f"Pareto front ({len(front)} trials)",
            marker={"color": COLORS["front"], "size": 9},
            text=[hover(r, x_metric) for r in front],
            hoverinfo="text",
        )
    )
    figure.update_layout(
        title=heading,
        template=TEMPLATE,
        hovermode="closest",
        xaxis={"title": f"{label(x_metric.name)} ({direction(x_metric)})"},
        yaxis={"title": f"{label(y_metric.name)} ({direction(y_metric)})"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return figure
