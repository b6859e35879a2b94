from __future__ import annotations

import sys

import pytest

from byop.history import History, plot_trace
from byop.optimization import Metric, Trial
from byop.plugins import MissingDependencyError

pytest.importorskip("matplotlib")


def history(costs):
    out = History()
    for i, cost in enumerate(costs):
        trial = Trial(name=f"t{i}", config={"x": i})
        out.add(trial.crashed(MemoryError("oom")) if cost is None else trial.success(cost=cost))
    return out


def test_writes_a_png_with_two_panels(tmp_path):
    path = tmp_path / "trace.png"
    figure = plot_trace(history([5.0, None, 3.0, 4.0, 1.0]), path, title="demo")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    left, right = figure.axes
    assert left.get_xlabel() == "trials finished" and right.get_xlabel() == "elapsed time (s)"
    assert left.get_ylabel() == "cost (lower is better)"
    assert "4 success, 1 crashed" in figure._suptitle.get_text()
    best_line = next(line for line in left.get_lines() if line.get_label() == "best so far")
    assert list(best_line.get_ydata()) == [5.0, 5.0, 3.0, 3.0, 1.0]
    assert left.get_yscale() == "linear"


def test_log_scale_for_values_spanning_orders_of_magnitude():
    figure = plot_trace(history([20.0, 1.0, 1.5]))
    axis = figure.axes[0]
    assert axis.get_yscale() == "log"
    assert axis.yaxis.get_major_formatter()(20.0, 0) == "20"  # plain numbers, no powers


def test_maximised_and_empty():
    acc = History([Trial(name="a", config={}).success(acc=0.5)])
    figure = plot_trace(acc, metric=Metric("acc", minimize=False))
    assert figure.axes[0].get_ylabel() == "acc (higher is better)"
    assert "no trials" in plot_trace(History())._suptitle.get_text()


def test_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"pip install byop\[plot\]"):
        plot_trace(history([1.0]))


def test_a_file_name_of_no_image_format_is_refused_before_drawing(tmp_path):
    target = tmp_path / "trace.xyz"
    with pytest.raises(ValueError, match=r"Cannot save a plot as trace.xyz.*\.png"):
        plot_trace(History(), target)
    assert not target.exists()
