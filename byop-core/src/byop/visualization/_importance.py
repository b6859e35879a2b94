"""Hyperparameter importance: fANOVA main effects over a random-forest surrogate.

The method of Hutter, Hoos and Leyton-Brown, "An Efficient Approach for Assessing
Hyperparameter Importance" (ICML 2014), as used by Optuna's and SMAC's importance tools,
written here in numpy:

1. Encode each configuration as a point of a box: a numeric hyperparameter on ``[0, 1]``
   across its range (log-scaled when its range is), a categorical one as one cell of width
   ``1/k`` per choice. A hyperparameter a configuration does not have (a conditional one that
   was inactive) gets a cell of its own, below ``0``, as wide as the share of trials in which
   it was inactive.
2. Fit a random forest of regression trees to the metric's values (see `_forest`).
3. Each tree is a function that is constant on boxes. Under the uniform measure on the
   domain, its variance splits exactly into one part per hyperparameter (its main effect),
   and interactions. The main effect of ``x_j`` is the variance of the tree's marginal
   ``f_j(x_j)``, the tree averaged over every other input; the importance of ``x_j`` is that
   variance as a share of the tree's total. The shares are averaged over the trees; their
   spread over the trees says how sure the estimate is.

The shares of the main effects add up to at most 1: what is left is due to interactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from attrs import frozen

from byop.optimization import Metric
from byop.visualization._data import (
    Param,
    Run,
    RunLike,
    category_index,
    choose,
    label,
    numeric_position,
    resolve,
    value_of,
    with_seen_choices,
)
from byop.visualization._plotly import COLORS, TEMPLATE, empty_figure, graph_objects

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from plotly.graph_objects import Figure

    from byop.visualization._forest import Leaves

MIN_TRIALS = 4
"""Fewer successful trials than this give no importance estimate."""


@frozen
class Importance:
    """How much of the metric's variance one hyperparameter explains on its own.

    Attributes:
        name: The hyperparameter.
        importance: Its main effect's share of the variance (0 to 1), averaged over trees.
        std: The standard deviation of that share over the forest's trees.
    """

    name: str
    importance: float
    std: float


def hyperparameter_importance(
    run: RunLike,
    *,
    metric: Metric | str | None = None,
    params: Sequence[str] | None = None,
    space: Any = None,
    n_trees: int = 32,
    max_trials: int | None = 2000,
    seed: int = 0,
) -> list[Importance]:
    """The importance of each hyperparameter: fANOVA main effects over a random forest.

    A random forest is fitted to the successful trials' values of ``metric``; each
    hyperparameter's importance is the share of the forest's variance that it explains on
    its own (its main effect, as in Hutter et al., 2014), averaged over the trees. See the
    module's description for how configurations, categorical and inactive hyperparameters
    are encoded. Deterministic for a given ``seed``.

    Args:
        run: A `History`, a `StoredRun`, or the path of a run store.
        metric: The metric (the run's first by default).
        params: The hyperparameters to assess (all that vary, by default).
        space: The search space, for ranges and log scales (by default the stored run's).
        n_trees: Trees in the forest.
        max_trials: Fit on a random sample of at most this many trials, to bound the time.
        seed: The seed of the forest's bootstrap samples.

    Returns:
        One `Importance` per hyperparameter, most important first; empty with fewer than
        four successful trials or nothing that varies.

    Example:
        ```python
        import numpy as np

        from byop.history import History
        from byop.optimization import Trial
        from byop.visualization import hyperparameter_importance

        rng = np.random.default_rng(0)
        history = History()
        for i in range(60):
            x, noise = rng.uniform(-1, 1), rng.uniform(-1, 1)
            trial = Trial(name=f"t{i}", config={"x": x, "noise": noise})
            history.add(trial.success(cost=x**2))  # only x matters

        ranked = hyperparameter_importance(history)
        assert [r.name for r in ranked] == ["x", "noise"]
        assert ranked[0].importance > 0.8 > 0.05 > ranked[1].importance
        ```
    """
    data = resolve(run, space)
    chosen = data.history.metric(metric)
    return _ranked(
        data, chosen=chosen, params=params, n_trees=n_trees, max_trials=max_trials, seed=seed
    )


def _ranked(
    data: Run,
    *,
    chosen: Metric,
    params: Sequence[str] | None,
    n_trees: int,
    max_trials: int | None,
    seed: int,
) -> list[Importance]:
    import numpy as np

    from byop.visualization._forest import grow_forest

    reports = [(r, v) for r in data.history if (v := value_of(r, chosen)) is not None]
    if max_trials is not None and len(reports) > max_trials:
        keep = np.random.default_rng(seed).choice(len(reports), size=max_trials, replace=False)
        reports = [reports[i] for i in sorted(keep)]
    candidates = choose(data.params, params, constants=True)
    if len(reports) < MIN_TRIALS or not candidates:
        return []
    configs = [r.trial.config for r, _ in reports]
    columns = [_encode(p, configs) for p in candidates]
    kept = [(p, c) for p, c in zip(candidates, columns, strict=True) if c is not None]
    if not kept:
        return []
    x = np.stack([c[0] for _, c in kept], axis=1)
    domain = np.array([c[1] for _, c in kept], dtype=np.float64)
    y = np.array([v for _, v in reports], dtype=np.float64)
    if np.ptp(y) == 0:  # every trial scored the same: nothing to explain
        return [Importance(name=p.name, importance=0.0, std=0.0) for p, _ in kept]
    y = (y - y.mean()) / y.std()  # the shares do not depend on the scale
    forest = grow_forest(x, y, domain, n_trees=n_trees, seed=seed)
    shares = np.array([_main_effects(tree, domain) for tree in forest])
    mean, std = shares.mean(axis=0), shares.std(axis=0)
    out = [
        Importance(name=p.name, importance=float(m), std=float(s))
        for (p, _), m, s in zip(kept, mean, std, strict=True)
    ]
    return sorted(out, key=lambda i: -i.importance)


def _encode(
    param: Param, configs: Sequence[Any]
) -> tuple[NDArray[np.float64], tuple[float, float]] | None:
    """The column of ``param`` in the unit box, and its domain; ``None`` if it never varies."""
    import numpy as np

    raw = [c.get(param.name) for c in configs]
    active = [param.name in c for c in configs]
    if param.numeric:
        positions = [
            numeric_position(param, v) if a else None for v, a in zip(raw, active, strict=True)
        ]
        known = [p for p in positions if p is not None]
        low = numeric_position(param, param.lower) if param.lower is not None else None
        high = numeric_position(param, param.upper) if param.upper is not None else None
        if known:
            low = min(known) if low is None else min(low, *known)
            high = max(known) if high is None else max(high, *known)
        width = 1.0 if low is None or high is None or high <= low else high - low
        base = 0.0 if low is None else low
        unit: list[float | None] = [None if p is None else (p - base) / width for p in positions]
        if high is None or low is None or high <= low:
            unit = [None if u is None else 0.5 for u in unit]
    else:
        present = [v for v, a in zip(raw, active, strict=True) if a]
        categorical = with_seen_choices(
            Param(param.name, "categorical", choices=param.choices), present
        )
        k = len(categorical.choices)
        unit = []
        for value, on in zip(raw, active, strict=True):
            index = category_index(categorical, value) if on else None
            unit.append(None if index is None else (index + 0.5) / k)
    missing = sum(u is None for u in unit)
    share = missing / len(unit)
    inactive_width = min(max(share, 0.05), 0.5) if missing else 0.0
    column = np.array([-inactive_width / 2 if u is None else u for u in unit], dtype=np.float64)
    if np.ptp(column) == 0:
        return None
    return column, (-inactive_width, 1.0)


def _main_effects(tree: Leaves, domain: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each input's main-effect variance as a share of the tree's variance."""
    import numpy as np

    span = domain[:, 1] - domain[:, 0]
    widths = (tree.upper - tree.lower) / span  # each leaf's share of each input's range
    volume = widths.prod(axis=1)
    mean = float(volume @ tree.value)
    total = float(volume @ (tree.value - mean) ** 2)
    d = domain.shape[0]
    if total <= 1e-12 * max(1.0, mean * mean):
        return np.zeros(d)
    shares = np.zeros(d)
    for j in range(d):
        edges = np.unique(np.concatenate([tree.lower[:, j], tree.upper[:, j]]))
        middles = (edges[:-1] + edges[1:]) / 2
        lengths = np.diff(edges) / span[j]
        covers = (tree.lower[:, j][:, None] < middles[None, :]) & (
            middles[None, :] < tree.upper[:, j][:, None]
        )
        # The marginal on each interval: the leaves over it, weighted by their other inputs.
        other = volume / widths[:, j]
        marginal = (tree.value * other) @ covers
        shares[j] = float(lengths @ (marginal - mean) ** 2) / total
    return shares


def plot_importance(
    run: RunLike,
    *,
    metric: Metric | str | None = None,
    params: Sequence[str] | None = None,
    space: Any = None,
    n_trees: int = 32,
    max_trials: int | None = 2000,
    seed: int = 0,
    title: str | None = None,
) -> Figure:
    """A bar per hyperparameter: its importance (fANOVA main effect), with its spread.

    See `hyperparameter_importance` for the method. The bars' error marks are the standard
    deviation over the forest's trees.

    Needs plotly: ``pip install byop[plot]``.

    Args:
        run: A `History`, a `StoredRun`, or the path of a run store.
        metric: The metric (the run's first by default).
        params: The hyperparameters to assess (all that vary, by default).
        space: The search space, for ranges and log scales (by default the stored run's).
        n_trees: Trees in the forest.
        max_trials: Fit on a random sample of at most this many trials, to bound the time.
        seed: The seed of the forest's bootstrap samples.
        title: The figure's title.

    Returns:
        A plotly figure.

    Raises:
        byop.plugins.MissingDependencyError: plotly is not installed.
    """
    go = graph_objects("plot_importance")
    data = resolve(run, space)
    chosen = data.history.metric(metric)
    heading = title or (
        f"hyperparameter importance{f' of {label(data.name)}' if data.name else ''}"
        f" ({label(chosen.name)})"
    )
    ranked = _ranked(
        data, chosen=chosen, params=params, n_trees=n_trees, max_trials=max_trials, seed=seed
    )
    if not ranked:
        return empty_figure(
            go,
            heading,
            f"needs {MIN_TRIALS} successful trials with a value of {label(chosen.name)} and a "
            "hyperparameter that varies",
        )
    ranked = ranked[::-1]  # the most important on top
    figure = go.Figure(
        go.Bar(
            x=[r.importance for r in ranked],
            y=[label(r.name, 40) for r in ranked],
            orientation="h",
            marker={"color": COLORS["trial"]},
            error_x={"type": "data", "array": [r.std for r in ranked], "thickness": 1},
            text=[f"{r.importance:.2f}" for r in ranked],
            textposition="outside",
            hoverinfo="text",
            hovertext=[
                f"{label(r.name)}: {r.importance:.3f} \u00b1 {r.std:.3f} of the variance"
                for r in ranked
            ],
        )
    )
    explained = sum(r.importance for r in ranked)
    figure.update_layout(
        title=f"{heading}<br><sup>fANOVA main effects: {explained:.0%} of the variance; "
        "the rest is interactions</sup>",
        template=TEMPLATE,
        xaxis={"title": "share of the variance", "range": [0, 1.05]},
        yaxis={"automargin": True},
        height=max(320, 140 + 32 * len(ranked)),
        margin={"t": 90},
    )
    return figure
