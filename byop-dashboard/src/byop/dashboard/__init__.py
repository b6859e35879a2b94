"""byop's dashboard: a local web app that shows run stores, live, as they are written.

``byop dashboard runs/*.jsonl`` (or `serve` in Python) lists the runs and shows, for each, its
state and budget, its summary, the plots of `byop.visualization` (optimization history,
parallel coordinates, hyperparameter importance, slices, Pareto front) and a sortable,
filterable table of its trials with each failure's exception and traceback. A running
optimization's page updates by itself as records reach its store; the server reads only what
was appended since it last looked (`byop.history.StoreFollower`).

Safe by default: it listens on 127.0.0.1, only reads, serves only the stores it was given
(nothing in a request becomes a path), shows every value from a store as text, and shows a
store that is torn or damaged as far as it can be read. Every script and style is served from
the installed packages (plotly.js from plotly's own), so it works offline.
"""

from __future__ import annotations

from byop.dashboard._dashboard import DEFAULT_PORT, Dashboard, serve

__all__ = ["DEFAULT_PORT", "Dashboard", "serve"]
