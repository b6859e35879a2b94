"""Loading plotly, only when a plot is made, and what every figure shares."""

from __future__ import annotations

from typing import Any

PLOT_EXTRA = "byop[plot]"
"""What to install for plots."""

TEMPLATE = "plotly_white"

COLORS = {
    "trial": "#4c78a8",
    "best": "#f58518",
    "fail": "#e45756",
    "crashed": "#222222",
    "front": "#e45756",
}


def graph_objects(feature: str) -> Any:
    """``plotly.graph_objects``, or an error that says ``pip install byop[plot]``.

    Raises:
        byop.plugins.MissingDependencyError: plotly is not installed.
    """
    from byop.plugins import import_optional

    import_optional("plotly", install=PLOT_EXTRA, feature=feature)
    import plotly.graph_objects as go

    return go


def make_subplots(**kwargs: Any) -> Any:
    """``plotly.subplots.make_subplots`` (plotly is imported by `graph_objects` first)."""
    from plotly.subplots import make_subplots as make

    return make(**kwargs)


def empty_figure(go: Any, title: str, message: str) -> Any:
    """A figure that says, in its middle, why there is nothing to plot."""
    figure = go.Figure()
    figure.update_layout(
        title=title,
        template=TEMPLATE,
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": message,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 15},
            }
        ],
    )
    return figure
