"""Slice plots: the metric against each hyperparameter, one panel each."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from byop.optimization import Metric
from byop.visualization._data import (
    Param,
    RunLike,
    category_index,
    choose,
    direction,
    label,
    resolve,
    value_of,
    with_seen_choices,
)
from byop.visualization._plotly import TEMPLATE, empty_figure, graph_objects, make_subplots

if TYPE_CHECKING:
    from plotly.graph_objects import Figure


def plot_slice(
    run: RunLike,
    *,
    params: Sequence[str] | None = None,
    metric: Metric | str | None = None,
    space: Any = None,
    columns: int = 3,
    title: str | None = None,
) -> Figure:
    """The metric against each hyperparameter's value, one panel per hyperparameter.

    Each successful trial is a dot, coloured by when it finished (dark early, bright late),
    so that where an optimizer concentrated its search shows. A panel holds the trials in
    which its hyperparameter was active; how many were not is in its title. Log-scale ranges
    get a log axis, categorical hyperparameters an axis of their choices.

    Needs plotly: ``pip install byop[plot]``.

    Args:
        run: A `History`, a `StoredRun`, or the path of a run store.
        params: The hyperparameters to show, in order (all that vary, by default).
        metric: The metric (the run's first by default).
        space: The search space, for ranges, log scales and choices (by default the stored
            run's, else inferred from the configurations).
        columns: Panels per row.
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
        from byop.visualization import plot_slice

        history = History(
            [Trial(f"t{i}", {"x": float(i), "kind": "ab"[i % 2]}).success(cost=i) for i in range(6)]
        )
        figure = plot_slice(history)
        assert [t.name for t in figure.data] == ["x", "kind"]
        ```
    """
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}.")
    go = graph_objects("plot_slice")
    data = resolve(run, space)
    history = data.history
    chosen = history.metric(metric)
    heading = title or (
        f"slices{f' of {label(data.name)}' if data.name else ''}"
        f" ({label(chosen.name)}, {direction(chosen)})"
    )
    shown = choose(data.params, params)
    rows = [(n, r, v) for n, r in enumerate(history) if (v := value_of(r, chosen)) is not None]
    if not rows or not shown:
        why = (
            f"no successful trial reported {label(chosen.name)} yet"
            if not rows
            else "no hyperparameter varies"
        )
        return empty_figure(go, heading, why)
    cols = min(columns, len(shown))
    n_rows = math.ceil(len(shown) / cols)
    titles = []
    for param in shown:
        inactive = sum(param.name not in r.trial.config for _, r, _ in rows)
        titles.append(label(param.name, 40) + (f" ({inactive} inactive)" if inactive else ""))
    figure = make_subplots(
        rows=n_rows,
        cols=cols,
        subplot_titles=titles,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        vertical_spacing=min(0.12, 0.5 / n_rows),
    )
    last = max(n for n, _, _ in rows) or 1
    for index, param in enumerate(shown):
        row, col = index // cols + 1, index % cols + 1
        active = [(n, r, v) for n, r, v in rows if param.name in r.trial.config]
        xs, axis = _positions(param, [r.trial.config[param.name] for _, r, _ in active])
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=[v for _, _, v in active],
                mode="markers",
                name=label(param.name),
                marker={
                    "size": 6,
                    "opacity": 0.75,
                    "color": [n for n, _, _ in active],
                    "colorscale": "Viridis",
                    "cmin": 0,
                    "cmax": last,
                    "showscale": index == 0,
                    "colorbar": {"title": {"text": "trial"}, "thickness": 12},
                },
                text=[  # short: a run of thousands of trials has one of these per panel
                    f"<b>{label(r.trial.name)}</b><br>{label(chosen.name)} = {label(v)}"
                    f"<br>{label(param.name, 40)} = {label(r.trial.config[param.name], 40)}"
                    for _, r, v in active
                ],
                hoverinfo="text",
                showlegend=False,
            ),
            row=row,
            col=col,
        )
        figure.update_xaxes(row=row, col=col, **axis)
    figure.update_yaxes(title_text=label(chosen.name), col=1)
    figure.update_layout(
        title=heading,
        template=TEMPLATE,
        height=max(360, 300 * n_rows + 80),
        hovermode="closest",
    )
    return figure


def _positions(param: Param, values: Sequence[Any]) -> tuple[list[Any], dict[str, Any]]:
    """The x values of a panel, and its axis's settings."""
    if param.numeric and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        axis: dict[str, Any] = {"type": "log" if param.log else "linear"}
        if param.lower is not None and param.upper is not None:
            low, high = param.lower, param.upper
            if values:
                low, high = min(low, *values), max(high, *values)
            if param.log and low > 0:
                pad = (math.log10(high) - math.log10(low)) * 0.03
                axis["range"] = [math.log10(low) - pad, math.log10(high) + pad]
            elif not param.log:
                pad = (high - low) * 0.03
                axis["range"] = [low - pad, high + pad]
        return list(values), axis
    categorical = with_seen_choices(Param(param.name, "categorical", choices=param.choices), values)
    names = [label(c, 20) for c in categorical.choices]
    # Two choices may look alike once shortened: number the duplicates.
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            names[i] = f"{name} #{i}"
        seen.setdefault(name, i)
    xs = [names[category_index(categorical, v) or 0] for v in values]
    return xs, {"type": "category", "categoryorder": "array", "categoryarray": names}
