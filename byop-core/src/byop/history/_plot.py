"""Plotting the best-so-far trace of a run (matplotlib, an optional extra)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from byop.history._history import History
from byop.optimization import Metric, ReportStatus

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOT_EXTRA = "byop[plot]"
"""What to install for plots."""


def plot_trace(
    history: History,
    path: str | Path | None = None,
    *,
    metric: Metric | str | None = None,
    title: str | None = None,
) -> Figure:
    """Plot the best value so far against trials finished, and against time.

    Each panel shows every successful trial's value as a dot, the best so far as a step line,
    and failed and crashed trials as marks along the bottom. The y axis is logarithmic when the
    values are positive and span more than an order of magnitude.

    Needs matplotlib: ``pip install byop[plot]``.

    Args:
        history: The run's history.
        path: Where to save the figure (its format from the suffix, e.g. ``.png``), if given.
        metric: The metric to plot (the history's first by default).
        title: The figure's title.

    Returns:
        The matplotlib figure.

    Raises:
        byop.plugins.MissingDependencyError: matplotlib is not installed.
        ValueError: ``path``'s suffix names no image format matplotlib writes (checked before
            anything is drawn); the message lists those it does.
    """
    from byop.plugins import import_optional

    import_optional("matplotlib", install=PLOT_EXTRA, feature="Plotting a run")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    chosen = history.metric(metric)
    trace = history.trace(chosen)
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    if path is not None:
        check_format(Path(path), figure)
    axes = figure.subplots(1, 2, sharey=True)
    values = [p.value for p in trace if p.value is not None]
    log = bool(values) and min(values) > 0 and max(values) / min(values) > 10
    panels: list[tuple[Any, str, list[float]]] = [
        (axes[0], "trials finished", [float(p.number) for p in trace]),
        (axes[1], "elapsed time (s)", [p.elapsed for p in trace]),
    ]
    for ax, label, xs in panels:
        ok = [(x, p.value) for x, p in zip(xs, trace, strict=True) if p.value is not None]
        if ok:
            ax.scatter(
                [x for x, _ in ok],
                [v for _, v in ok],
                s=14,
                alpha=0.45,
                color="tab:blue",
                label="trial",
            )
        steps = [(x, p.best) for x, p in zip(xs, trace, strict=True) if p.best is not None]
        if steps:
            ax.step(
                [x for x, _ in steps],
                [b for _, b in steps],
                where="post",
                color="tab:orange",
                linewidth=2,
                label="best so far",
            )
        for status, color, marker in (
            (ReportStatus.FAIL, "tab:red", "|"),
            (ReportStatus.CRASHED, "black", "x"),
        ):
            bad = [x for x, p in zip(xs, trace, strict=True) if p.status is status]
            if bad:
                ax.plot(
                    bad,
                    [0.02] * len(bad),
                    linestyle="none",
                    marker=marker,
                    color=color,
                    transform=ax.get_xaxis_transform(),
                    label=status.value,
                )
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
        if log:
            ax.set_yscale("log")
            plain = FuncFormatter(lambda value, _: f"{value:g}")  # 20, not 2 x 10^1
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(plain)
    direction = "lower" if chosen.minimize else "higher"
    axes[0].set_ylabel(f"{chosen.name} ({direction} is better)")
    if trace:
        axes[0].legend(loc="upper right", fontsize="small")
    else:
        for ax in axes:
            ax.text(0.5, 0.5, "no trials", ha="center", va="center", transform=ax.transAxes)
    counts = history.counts()
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n) or "no trials"
    figure.suptitle(f"{title or 'best so far'} ({summary})")
    if path is not None:
        figure.savefig(Path(path), dpi=110)
    return figure


def check_format(path: Path, figure: Figure) -> None:
    """Refuse a file name whose suffix is no image format matplotlib can write."""
    suffix = path.suffix[1:].lower()
    if not suffix:
        return  # no suffix: matplotlib writes its default format (PNG)
    formats = figure.canvas.get_supported_filetypes()
    if suffix not in formats:
        raise ValueError(
            f"Cannot save a plot as {path.name}: {suffix!r} is no image format matplotlib "
            f"writes. Choose a file name ending in one of: "
            f"{', '.join('.' + f for f in sorted(formats))} (.png for a picture, .svg or "
            ".pdf to scale)."
        )
