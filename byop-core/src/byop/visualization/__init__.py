"""Interactive plots of a run, with plotly: for notebooks, scripts and the dashboard.

Every plot takes a `byop.history.History`, a `byop.history.StoredRun` or the path of a run
store, and returns a plotly figure: interactive in Jupyter (``figure.show()``), and saved
with ``figure.write_html("plot.html")`` (or ``write_image`` with kaleido installed).

- `plot_optimization_history`: each trial's value and the best so far; failures marked.
- `plot_parallel_coordinates`: every trial as a line through its hyperparameters.
- `plot_importance` (and `hyperparameter_importance`, the numbers): how much of the
  metric's variance each hyperparameter explains on its own, by fANOVA over a random forest.
- `plot_slice`: the metric against each hyperparameter.
- `plot_pareto_front` (and `pareto_front`): two objectives against each other.

Plotly loads only when a plot is made: ``pip install byop[plot]``. Every value taken from a
run (names, configurations, exception messages) is escaped, so it shows as text.

Example:
    ```python
    import tempfile
    from pathlib import Path

    from byop.run import optimize
    from byop.visualization import plot_optimization_history, plot_slice

    def square(trial):
        return trial.success(cost=trial.config["x"] ** 2)

    path = Path(tempfile.mkdtemp()) / "square.jsonl"
    optimize(square, {"x": (-1.0, 1.0)}, seed=0, max_trials=20, store=path,
             progress="off", backend="sequential")

    figure = plot_optimization_history(path)        # a stored run, by its path
    figure.write_html(path.with_suffix(".html"))    # one self-contained page
    assert len(plot_slice(path).data) == 1          # one panel: x
    ```
"""

from __future__ import annotations

from byop.visualization._data import INACTIVE
from byop.visualization._history_plot import plot_optimization_history
from byop.visualization._importance import Importance, hyperparameter_importance, plot_importance
from byop.visualization._parallel import plot_parallel_coordinates
from byop.visualization._pareto import pareto_front, plot_pareto_front
from byop.visualization._plotly import PLOT_EXTRA
from byop.visualization._slice import plot_slice

__all__ = [
    "INACTIVE",
    "PLOT_EXTRA",
    "Importance",
    "hyperparameter_importance",
    "pareto_front",
    "plot_importance",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_pareto_front",
    "plot_slice",
]
