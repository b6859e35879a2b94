"""The optimization history: every trial's value, the best so far, and the failures."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from byop.optimization import Metric, ReportStatus
from byop.visualization._data import RunLike, direction, hover, label, resolve
from byop.visualization._plotly import COLORS, TEMPLATE, empty_figure, graph_objects

if TYPE_CHECKING:
    from plotly.graph_objects import Figure


def plot_optimization_history(
    run: RunLike,
    *,
    metric: Metric | str | None = None,
    x: Literal["trial", "time"] = "trial",
    title: str | None = None,
) -> Figure:
    """Each trial's value and the best value so far, in the order trials finished.

    Successful trials are dots, the best so far a step line; failed and crashed trials are
    marked in a strip of their own below the plot (they have no value). Hovering over a
    point shows the trial's name, value, configuration and, for a failure, its exception.
    The value axis is logarithmic when the values are positive and span more than an order
    of magnitude.

    Needs plotly: ``pip install byop[plot]``.

    Args:
        run: A `History`, a `StoredRun`, or the path of a run store.
        metric: The metric to plot (the run's first by default).
        x: ``"trial"`` for the number of trials finished, ``"time"`` for the seconds since
            the run's first trial started.
        title: The figure's title.

    Returns:
        A plotly figure (``figure.show()``, ``figure.write_html(path)``).

    Raises:
        byop.plugins.MissingDependencyError: plotly is not installed.

    Example:
        ```python
        from byop.history import History
        from byop.optimization import Trial
        from byop.visualization import plot_optimization_history

        history = History()
        for i, x in enumerate([3.0, -1.0, 2.0]):
            history.add(Trial(name=f"t{i}", config={"x": x}).success(cost=x * x))
        history.add(Trial(name="t3", config={"x": 9.0}).fail())

        figure = plot_optimization_history(history)
        best = next(t for t in figure.data if t.name == "best so far")
        assert list(best.y) == [9.0, 1.0, 1.0, 1.0]  # after each trial, the failure too
        ```
    """
    if x not in ("trial", "time"):
        raise ValueError(f"x is 'trial' or 'time', got {x!r}.")
    go = graph_objects("plot_optimization_history")
    data = resolve(run)
    history = data.history
    chosen = history.metric(metric)
    heading = title or _title(data.name, history)
    trace = history.trace(chosen)
    if not trace:
        return empty_figure(go, heading, "no trials yet")
    xs = [float(p.number) if x == "trial" else p.elapsed for p in trace]
    figure = go.Figure()
    ok = [
        (xv, p)
        for xv, p in zip(xs, trace, strict=True)
        if p.value is not None and math.isfinite(p.value)
    ]
    figure.add_trace(
        go.Scatter(
            x=[xv for xv, _ in ok],
            y=[p.value for _, p in ok],
            mode="markers",
            name="trial",
            marker={"color": COLORS["trial"], "size": 6, "opacity": 0.6},
            text=[hover(history[p.name], chosen) for _, p in ok],
            hoverinfo="text",
        )
    )
    steps = [(xv, p) for xv, p in zip(xs, trace, strict=True) if p.best is not None]
    figure.add_trace(
        go.Scatter(
            x=[xv for xv, _ in steps],
            y=[p.best for _, p in steps],
            mode="lines",
            line={"shape": "hv", "color": COLORS["best"], "width": 2.5},
            name="best so far",
            text=[f"best so far: {label(p.best)} ({label(p.best_name)})" for _, p in steps],
            hoverinfo="text",
        )
    )
    bad_statuses = (ReportStatus.FAIL, ReportStatus.CRASHED)
    bad = [(xv, p) for xv, p in zip(xs, trace, strict=True) if p.status in bad_statuses]
    for status in bad_statuses:
        points = [(xv, p) for xv, p in bad if p.status is status]
        if points:
            figure.add_trace(
                go.Scatter(
                    x=[xv for xv, _ in points],
                    y=[status.value] * len(points),
                    yaxis="y2",
                    mode="markers",
                    name=status.value,
                    marker={"symbol": "x-thin-open", "size": 9, "color": COLORS[status.value]},
                    text=[hover(history[p.name], chosen) for _, p in points],
                    hoverinfo="text",
                )
            )
    values = [p.value for _, p in ok if p.value is not None]
    log = bool(values) and min(values) > 0 and max(values) / min(values) > 10
    layout: dict[str, Any] = {
        "title": heading,
        "template": TEMPLATE,
        "hovermode": "closest",
        "xaxis": {
            "title": "trials finished" if x == "trial" else "seconds since the start",
            "anchor": "y2" if bad else "y",  # below the strip of failures
        },
        "yaxis": {
            "title": f"{label(chosen.name)} ({direction(chosen)})",
            "type": "log" if log else "linear",
            "domain": [0.16, 1.0] if bad else [0.0, 1.0],
        },
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    }
    if bad:
        layout["yaxis2"] = {
            "domain": [0.0, 0.1],
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [s.value for s in bad_statuses],
            "showgrid": False,
        }
    if not ok:
        layout["annotations"] = [
            {
                "text": f"no successful trial reported {label(chosen.name)} yet",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.6,
                "showarrow": False,
            }
        ]
    figure.update_layout(**layout)
    return figure


def _title(name: str | None, history: Any) -> str:
    counts = ", ".join(f"{n} {s.value}" for s, n in history.counts().items() if n)
    where = f" of {label(name)}" if name else ""
    return f"optimization history{where} ({counts or 'no trials'})"
