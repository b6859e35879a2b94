"""Plotting the Pareto front of two metrics (matplotlib, an optional extra)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from byop.history._history import History, metric_value
from byop.history._pareto import pareto_front
from byop.history._plot import PLOT_EXTRA, check_format
from byop.optimization import Metric, ReportStatus

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LABELLED = 12
"""Fronts of up to this many trials have each member's name written beside it."""


def plot_pareto(
    history: History,
    path: str | Path | None = None,
    *,
    metrics: Sequence[Metric | str] | None = None,
    title: str | None = None,
) -> Figure:
    """Plot two metrics of every successful trial, with their Pareto front drawn through.

    Every successful trial is a grey dot; the front's members are orange, joined by the
    staircase that bounds the region they dominate, and named when there are few. Each axis
    says which way is better; the title counts the trials, the front and the failures.

    Needs matplotlib: ``pip install byop[plot]``.

    Args:
        history: The run's history.
        path: Where to save the figure (its format from the suffix, e.g. ``.png``), if given.
        metrics: The two metrics (the history's first two by default).
        title: The figure's title.

    Returns:
        The matplotlib figure.

    Raises:
        ValueError: Not exactly two metrics (or the history has fewer than two), or ``path``'s
            suffix names no image format matplotlib writes.
        byop.plugins.MissingDependencyError: matplotlib is not installed.
    """
    chosen = (
        tuple(history.metric(m) for m in metrics)
        if metrics is not None
        else tuple(history.metrics[:2])
    )
    if len(chosen) != 2:
        have = ", ".join(m.name for m in history.metrics)
        raise ValueError(
            f"A Pareto plot shows two metrics, got {len(chosen)} (the run's metrics: {have}). "
            "Declare two metrics, e.g. metrics={'accuracy': 'max', 'latency': 'min'}, or name "
            "two of the run's."
        )
    for metric in chosen:
        if metric not in history.metrics and not any(
            metric_value(r, metric) is not None for r in history
        ):
            have = ", ".join(m.name for m in history.metrics)
            raise ValueError(
                f"No trial reported a number for {metric.name!r}; the run's metrics are: {have}."
            )
    from byop.plugins import import_optional

    import_optional("matplotlib", install=PLOT_EXTRA, feature="Plotting a run")
    from matplotlib.figure import Figure

    x_metric, y_metric = chosen
    figure = Figure(figsize=(7.5, 5.5), layout="constrained")
    if path is not None:
        check_format(Path(path), figure)
    ax = figure.subplots()
    points = []
    for report in history:
        x, y = metric_value(report, x_metric), metric_value(report, y_metric)
        if x is not None and y is not None:
            points.append((x, y))
    front = pareto_front(history, chosen)
    front_xy = [(r[x_metric.name], r[y_metric.name]) for r in front]
    if points:
        ax.scatter(
            [p[0] for p in points],
            [p[1] for p in points],
            s=16,
            color="tab:gray",
            alpha=0.5,
            label="trial",
        )
    if front_xy:
        ordered = sorted(
            zip(front_xy, front, strict=True), key=lambda item: x_metric.as_cost(item[0][0])
        )
        xs = [float(xy[0]) for xy, _ in ordered]
        ys = [float(xy[1]) for xy, _ in ordered]
        ax.step(xs, ys, where="post", color="tab:orange", linewidth=1.5, alpha=0.8)
        ax.scatter(xs, ys, s=40, color="tab:orange", zorder=3, label="Pareto front")
        if len(ordered) <= LABELLED:
            for (x, y), report in ordered:
                ax.annotate(
                    report.trial.name,
                    (float(x), float(y)),
                    textcoords="offset points",
                    xytext=(5, 4),
                    fontsize="x-small",
                )
    else:
        ax.text(0.5, 0.5, "no successful trials", ha="center", va="center", transform=ax.transAxes)
    for metric, set_label in ((x_metric, ax.set_xlabel), (y_metric, ax.set_ylabel)):
        set_label(f"{metric.name} ({'lower' if metric.minimize else 'higher'} is better)")
    ax.grid(alpha=0.3)
    if front_xy:
        ax.legend(loc="best", fontsize="small")
    counts = history.counts()
    bad = counts[ReportStatus.FAIL] + counts[ReportStatus.CRASHED]
    figure.suptitle(
        f"{title or 'Pareto front'} ({len(points)} trials, {len(front)} on the front"
        + (f", {bad} failed or crashed" if bad else "")
        + ")"
    )
    if path is not None:
        figure.savefig(Path(path), dpi=110)
    return figure
