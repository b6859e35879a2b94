"""Parallel coordinates: every successful trial as a line across its hyperparameters."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from byop.optimization import Metric
from byop.visualization._data import (
    INACTIVE,
    Param,
    RunLike,
    category_index,
    choose,
    direction,
    label,
    numeric_position,
    resolve,
    short,
    value_of,
    with_seen_choices,
)
from byop.visualization._plotly import TEMPLATE, empty_figure, graph_objects

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

_GAP = 0.12  # of an axis's span, between its values and its "inactive" mark


def plot_parallel_coordinates(
    run: RunLike,
    *,
    params: Sequence[str] | None = None,
    metric: Metric | str | None = None,
    space: Any = None,
    title: str | None = None,
) -> Figure:
    """Each successful trial as a line through its hyperparameters' values and its result.

    One axis per hyperparameter, and the metric's axis last; lines are coloured by the
    metric. Categorical hyperparameters get an axis of their choices. A hyperparameter that a
    trial's configuration does not have (a conditional one that was not active) is drawn on
    its axis's ``inactive`` mark, below the values. Log-scale ranges are drawn on a log
    axis (ticks in the range's own units). Drag along an axis to select a range of it.

    Needs plotly: ``pip install byop[plot]``.

    Args:
        run: A `History`, a `StoredRun`, or the path of a run store.
        params: The hyperparameters to show, in order (all that vary, by default).
        metric: The metric (the run's first by default).
        space: The search space (a `byop.pipeline.Space` or a dict), for ranges, log scales
            and choices; by default the stored run's, else inferred from the configurations.
        title: The figure's title.

    Returns:
        A plotly figure.

    Raises:
        byop.plugins.MissingDependencyError: plotly is not installed.
        KeyError: A name in ``params`` is not a hyperparameter of the run.

    Example:
        ```python
        from byop.history import History
        from byop.optimization import Trial
        from byop.visualization import plot_parallel_coordinates

        history = History(
            [
                Trial("a", {"kind": "svm", "C": 1.0}).success(cost=0.3),
                Trial("b", {"kind": "tree"}).success(cost=0.5),  # no C: inactive
            ]
        )
        figure = plot_parallel_coordinates(history)
        c_axis = figure.data[0].dimensions[1]
        assert c_axis.label == "C" and "inactive" in c_axis.ticktext
        ```
    """
    go = graph_objects("plot_parallel_coordinates")
    data = resolve(run, space)
    history = data.history
    chosen = history.metric(metric)
    heading = title or (
        f"parallel coordinates{f' of {label(data.name)}' if data.name else ''}"
        f" ({label(chosen.name)}, {direction(chosen)})"
    )
    chosen_params = choose(data.params, params, constants=True)
    rows = [(r, v) for r in history if (v := value_of(r, chosen)) is not None]
    if not rows:
        return empty_figure(go, heading, f"no successful trial reported {label(chosen.name)} yet")
    dimensions = []
    for param in chosen_params:
        configs = [r.trial.config for r, _ in rows]
        dimension = _dimension(param, configs)
        if dimension is not None:
            dimensions.append(dimension)
    values = [v for _, v in rows]
    dimensions.append({"label": f"{label(chosen.name)}", "values": values, "range": _span(values)})
    figure = go.Figure(
        go.Parcoords(
            dimensions=dimensions,
            line={
                "color": values,
                "colorscale": "Viridis",
                "reversescale": chosen.minimize,  # the best trials bright
                "showscale": True,
                "colorbar": {"title": {"text": label(chosen.name)}},
            },
            labelangle=-20,
        )
    )
    hidden = len(history) - len(rows)
    note = f"; {hidden} trials without a value not shown" if hidden else ""
    figure.update_layout(
        title=f"{heading}<br><sup>{len(rows)} trials{note}</sup>",
        template=TEMPLATE,
        margin={"l": 150, "r": 60, "t": 110, "b": 40},
    )
    return figure


def _dimension(param: Param, configs: Sequence[Any]) -> dict[str, Any] | None:
    raw = [c.get(param.name, _MISSING) if hasattr(c, "get") else _MISSING for c in configs]
    inactive = any(v is _MISSING for v in raw)
    if param.numeric:
        positions = [None if v is _MISSING else numeric_position(param, v) for v in raw]
        known = [p for p in positions if p is not None]
        low, high = _bounds(param, known)
        mark = low - _GAP * (high - low)
        values = [mark if p is None else p for p in positions]
        ticks, text = _numeric_ticks(param, low, high)
        if inactive or len(known) < len(positions):
            ticks, text = [mark, *ticks], [INACTIVE, *text]
        return {
            "label": label(param.name),
            "values": values,
            "range": [mark if len(known) < len(positions) else low, high],
            "tickvals": ticks,
            "ticktext": text,
        }
    present = [v for v in raw if v is not _MISSING]
    if param.kind == "constant" and not inactive:
        return None
    param = with_seen_choices(Param(param.name, "categorical", choices=param.choices), present)
    codes = [-1 if v is _MISSING else category_index(param, v) for v in raw]
    ticks = list(range(len(param.choices)))
    text = [short(c, 28) for c in param.choices]  # plain text: parcoords does not parse it
    if inactive:
        ticks, text = [-1, *ticks], [INACTIVE, *text]
    return {
        "label": label(param.name),
        "values": [-1 if c is None else c for c in codes],
        "range": [ticks[0] - 0.3, ticks[-1] + 0.3] if len(ticks) > 1 else [ticks[0] - 1, 1],
        "tickvals": ticks,
        "ticktext": text,
    }


class _Missing:
    def __repr__(self) -> str:
        return INACTIVE


_MISSING: Any = _Missing()


def _bounds(param: Param, known: Sequence[float]) -> tuple[float, float]:
    if param.lower is not None and param.upper is not None:
        low = numeric_position(param, param.lower)
        high = numeric_position(param, param.upper)
        if low is not None and high is not None and low < high:
            if known:
                low, high = min(low, *known), max(high, *known)
            return low, high
    if not known:
        return 0.0, 1.0
    low, high = min(known), max(known)
    if low == high:
        return low - 0.5, high + 0.5
    return low, high


def _span(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    if low == high:
        return [low - 0.5, high + 0.5]
    return [low, high]


def _numeric_ticks(param: Param, low: float, high: float) -> tuple[list[float], list[str]]:
    """Ticks for an axis from ``low`` to ``high`` (log10 positions on a log axis)."""
    if param.log:
        first, last = math.ceil(low - 1e-9), math.floor(high + 1e-9)
        if last - first >= 1:
            step = max(1, math.ceil((last - first) / 6))
            ticks = [float(e) for e in range(first, last + 1, step)]
        else:
            ticks = [low + (high - low) * i / 4 for i in range(5)]
        return ticks, [short(10**t) for t in ticks]
    ticks = [low + (high - low) * i / 5 for i in range(6)]
    if param.kind == "int":
        ticks = sorted({float(round(t)) for t in ticks})
    return ticks, [short(t) for t in ticks]
