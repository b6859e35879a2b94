from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from byop.history import History, read_store
from byop.optimization import Metric, Trial
from byop.pipeline import Categorical, Condition, Float, Integer, Space
from byop.plugins import MissingDependencyError
from byop.run import optimize
from byop.visualization import (
    INACTIVE,
    hyperparameter_importance,
    pareto_front,
    plot_importance,
    plot_optimization_history,
    plot_parallel_coordinates,
    plot_pareto_front,
    plot_slice,
)

pytest.importorskip("plotly")

EVIL = "<script>alert(1)</script>"
SPACE = Space.from_dict(
    {
        "kind": Categorical(("svm", "tree", EVIL)),
        "C": Float(1e-3, 1e3, log=True),
        "depth": Integer(1, 12),
        "lr": Float(0.0, 1.0),
    },
    conditions=[Condition("C", "kind", ("svm",)), Condition("depth", "kind", ("tree",))],
)


def objective(trial):
    c = trial.config
    with trial.begin():
        if c["lr"] > 0.9:
            raise ValueError("<b>lr</b> is too big")
        cost = 5 * (c["lr"] - 0.3) ** 2
        cost += 0.3 * (math.log10(c["C"]) - 1) ** 2 if "C" in c else 0.2 * c.get("depth", 6)
        return trial.success(cost=cost, latency=1 / (1 + c["lr"]))
    return trial.fail()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("viz") / "run.jsonl"
    optimize(
        objective,
        SPACE,
        seed=0,
        max_trials=120,
        store=path,
        progress="off",
        backend="sequential",
        metrics=[Metric("cost"), Metric("latency")],
    )
    return path


def figure_json(figure):
    return json.loads(figure.to_json())


def all_text(figure):
    """Every string in the figure, as sent to plotly.js."""
    out = []

    def walk(value):
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(figure_json(figure))
    return out


PLOTS = [
    plot_optimization_history,
    plot_parallel_coordinates,
    plot_importance,
    plot_slice,
    plot_pareto_front,
]


@pytest.mark.parametrize("plot", PLOTS, ids=lambda p: p.__name__)
def test_every_plot_takes_a_path_a_stored_run_and_a_history(plot, store):
    run = read_store(store)
    for source in (store, str(store), run, run.history):
        figure = plot(source)
        assert figure.data, f"{plot.__name__} drew nothing from {type(source).__name__}"


@pytest.mark.parametrize("plot", PLOTS, ids=lambda p: p.__name__)
def test_store_values_are_escaped_where_plotly_reads_html(plot, store):
    data = figure_json(plot(store))
    for trace in data["data"]:
        for dimension in trace.get("dimensions", []):
            dimension.pop("ticktext", None)  # parallel coordinates' tick text is shown as written
    texts = json.loads(json.dumps(data).replace("\\u003c", "<").replace("\\u003e", ">"))
    texts = json.dumps(texts, ensure_ascii=False)
    assert "<script>" not in texts and "<b>lr</b>" not in texts
    if plot in (plot_optimization_history, plot_slice):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in texts  # shown as text
        assert "&lt;b&gt;lr&lt;/b&gt;" in texts or plot is plot_slice


@pytest.mark.parametrize("plot", PLOTS, ids=lambda p: p.__name__)
def test_an_empty_history_says_so(plot):
    figure = plot(History(metrics=["cost", "latency"]))
    message = " ".join(a.text for a in figure.layout.annotations)
    assert "no" in message or "needs" in message


def test_history_plot_marks_failures_and_traces_the_best():
    history = History()
    for i, cost in enumerate([4.0, None, 2.0, 3.0, 1.0]):
        trial = Trial(name=f"t{i}", config={"x": i})
        history.add(trial.fail() if cost is None else trial.success(cost=cost))
    figure = plot_optimization_history(history)
    traces = {t.name: t for t in figure.data}
    assert list(traces["best so far"].y) == [4.0, 4.0, 2.0, 2.0, 1.0]
    assert list(traces["fail"].x) == [2.0] and traces["fail"].yaxis == "y2"
    assert figure.layout.yaxis.type == "linear"
    by_time = plot_optimization_history(history, x="time")
    assert by_time.layout.xaxis.title.text == "seconds since the start"
    with pytest.raises(ValueError, match="'trial' or 'time'"):
        plot_optimization_history(history, x="epochs")


def test_parallel_coordinates_show_categoricals_logs_and_inactive(store):
    figure = plot_parallel_coordinates(store)
    dims = {d.label: d for d in figure.data[0].dimensions}
    assert list(dims) == ["kind", "C", "depth", "lr", "cost"]
    # Categorical: every choice, as plain tick text (parcoords shows tick text as written).
    assert list(dims["kind"].ticktext) == ["svm", "tree", EVIL]
    # Conditional: a trial without C sits on the "inactive" mark, below the range.
    run = read_store(store).history
    ok = [r for r in run if r.status.value == "success"]
    c_values = list(dims["C"].values)
    mark = dims["C"].tickvals[0]
    assert dims["C"].ticktext[0] == INACTIVE
    assert [v == mark for v in c_values] == ["C" not in r.trial.config for r in ok]
    # Log scale: positions are log10 of the values; ticks read in the range's units.
    with_c = [r.trial.config["C"] for r in ok if "C" in r.trial.config]
    assert sorted(v for v in c_values if v != mark)[0] == pytest.approx(math.log10(min(with_c)))
    assert {"0.001", "1", "1000"} <= set(dims["C"].ticktext)


def test_parallel_coordinates_params_and_errors(store):
    figure = plot_parallel_coordinates(store, params=["lr"])
    assert [d.label for d in figure.data[0].dimensions] == ["lr", "cost"]
    with pytest.raises(KeyError, match="No hyperparameter 'nope'"):
        plot_parallel_coordinates(store, params=["nope"])


def test_a_config_missing_a_key_of_the_space_counts_as_inactive():
    history = History(
        [
            Trial("a", {"x": 1.0, "y": "u"}).success(cost=1.0),
            Trial("b", {"x": 2.0}).success(cost=2.0),
            Trial("c", {"x": 3.0, "y": "v"}).success(cost=3.0),
        ]
    )
    figure = plot_parallel_coordinates(history, space={"x": (0.0, 5.0), "y": ["u", "v"]})
    y = figure.data[0].dimensions[1]
    assert list(y.ticktext) == [INACTIVE, "u", "v"] and list(y.values) == [0, -1, 1]
    slices = plot_slice(history)
    assert "1 inactive" in slices.layout.annotations[1].text


def test_importance_finds_what_matters():
    rng = np.random.default_rng(1)
    history = History()
    for i in range(150):
        config = {"a": rng.uniform(0, 1), "b": rng.uniform(0, 1), "k": str(rng.choice(["p", "q"]))}
        cost = 3 * config["a"] + (1.0 if config["k"] == "q" else 0.0) + 0.01 * config["b"]
        history.add(Trial(f"t{i}", config).success(cost=cost))
    ranked = hyperparameter_importance(history, seed=0)
    shares = {r.name: r.importance for r in ranked}
    assert [r.name for r in ranked] == ["a", "k", "b"]
    assert shares["a"] > 0.5 and 0.05 < shares["k"] < shares["a"] and shares["b"] < 0.02
    assert sum(shares.values()) <= 1.0 + 1e-9
    assert hyperparameter_importance(history, seed=0) == ranked  # deterministic
    bars = plot_importance(history)
    assert list(bars.data[0].y) == ["b", "k", "a"]  # the most important on top


def test_importance_of_an_inactive_only_effect():
    # Whether "depth" is there at all is what matters: its cell of its own must carry it.
    history = History()
    for i in range(80):
        config = {"x": (i * 0.37) % 1.0}
        if i % 2:
            config["depth"] = 1 + i % 5
        history.add(Trial(f"t{i}", config).success(cost=10.0 if i % 2 else 0.0))
    ranked = hyperparameter_importance(history)
    assert ranked[0].name == "depth" and ranked[0].importance > 0.9


def test_importance_needs_trials_and_variation():
    few = History([Trial(f"t{i}", {"x": float(i)}).success(cost=i) for i in range(3)])
    assert hyperparameter_importance(few) == []
    flat = History([Trial(f"t{i}", {"x": float(i)}).success(cost=1.0) for i in range(10)])
    assert [(r.name, r.importance) for r in hyperparameter_importance(flat)] == [("x", 0.0)]
    constant = History([Trial(f"t{i}", {"x": 1.0}).success(cost=i) for i in range(10)])
    assert hyperparameter_importance(constant) == []


def test_pareto_front_is_the_non_dominated_set():
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 1, size=(300, 2))
    history = History(
        [Trial(f"t{i}", {}).success(a=float(p[0]), b=float(p[1])) for i, p in enumerate(points)],
        metrics=["a", Metric("b", minimize=False)],
    )
    front = {r.trial.name for r in pareto_front(history)}
    # Brute force: a point is on the front when none is <= in a, >= in b and better in one.
    expected = set()
    for i, (a, b) in enumerate(points):
        dominated = any(
            (a2 <= a and b2 >= b) and (a2 < a or b2 > b) for j, (a2, b2) in enumerate(points)
        )
        if not dominated:
            expected.add(f"t{i}")
    assert front == expected
    figure = plot_pareto_front(history)
    assert len(figure.data[1].x) == len(expected)


def test_pareto_front_of_one_objective():
    history = History([Trial("a", {}).success(cost=1.0)])
    figure = plot_pareto_front(history)
    assert "one objective" in figure.layout.annotations[0].text
    with pytest.raises(ValueError, match="two or more metrics"):
        pareto_front(history)
    two = History([Trial("a", {}).success(cost=1.0, size=2.0)])
    assert len(plot_pareto_front(two, metrics=["cost", "size"]).data) == 2


def test_wrong_inputs_say_what_to_give(store):
    with pytest.raises(TypeError, match="History, a StoredRun"):
        plot_slice(42)
    with pytest.raises(FileNotFoundError):
        plot_slice(store.with_name("missing.jsonl"))
    with pytest.raises(ValueError, match="columns"):
        plot_slice(store, columns=0)


def test_without_plotly_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "plotly", None)
    with pytest.raises(MissingDependencyError, match=r"pip install byop\[plot\]"):
        plot_optimization_history(History())
