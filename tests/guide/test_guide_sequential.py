"""The optimization guide's sequential blocks, run as written (errata applied)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from support.docblocks import find

from byop.optimization import RandomSearch, RSTrialInfo, Trial
from byop.pipeline import Float, Space

PAGE = "guides/optimization.md"


@pytest.mark.parametrize("label", ["Polynomial", "Typed"])
def test_poly_is_defined(run_block, label):
    ns, _ = run_block(find(PAGE, "Optimizating a simple function", label, nth=0))
    assert ns["poly"](1.0) == pytest.approx(8.0)


@pytest.mark.parametrize("label", ["Defining a Search Space", "Typed"])
def test_defining_a_search_space(run_block, label):
    nth = 1 if label == "Typed" else 0
    ns, _ = run_block(find(PAGE, "Optimizating a simple function", label, nth=nth))
    space = ns["s"].space()
    assert isinstance(space, Space)
    assert space.names == ("x",)
    assert space["x"] == Float(-10.0, 10.0, name="x")


@pytest.mark.parametrize("label", ["Creating an optmizer", "Typed"])
def test_creating_an_optimizer(run_block, label):
    ns, _ = run_block(find(PAGE, "Creating an optimizer", label))
    rs = ns["random_search"]
    assert isinstance(rs, RandomSearch)
    assert rs.seed == 42
    trial = rs.ask()
    assert -10.0 <= trial.config["x"] <= 10.0


def test_random_search_construction_prints_a_short_trial(run_block):
    ns, out = run_block(find(PAGE, "Random Search", "RandomSearch Construction"))
    line = out.strip()
    assert "\n" not in line
    assert re.fullmatch(r"Trial\(name='rs-0', config=\{'x': -?\d+\.\d+\}\)", line), line
    assert str(ns["trial"].config["x"]) in line


def test_random_search_exhausted_on_the_third_ask(run_block):
    ns, out = run_block(find(PAGE, "Random Search", "RandomSearch Exhausted"))
    assert "RandomSearch.ExhaustedError" in out or "ExhaustedError" in out
    assert ", line 14, in <module>" in out  # the traceback points at the third ask
    rs = ns["random_search"]
    # Both configurations were handed out before the error.
    assert {t.config["x"] for t in rs._pending.values()} == {"apple", "pear"}
    with pytest.raises(RandomSearch.ExhaustedError, match="duplicates=True"):
        rs.ask()


def test_random_search_custom_sample_function(run_block):
    state = np.random.get_state()
    ns, out = run_block(find(PAGE, "Random Search", "RandomSearch Custom Sample Function"))
    trial = ns["trial"]
    assert set(trial.config) == {"x", "y"}
    # Plain Python values, drawn from the seeded generator: numpy's global one is untouched.
    assert type(trial.config["x"]) is float and type(trial.config["y"]) is str
    assert trial.config["y"] in {"cat", "dog", "fish"}
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert out.strip().startswith("Trial(name='rs-0', config={")

    received = []

    def spy(space, seed):
        received.append((space, seed))
        return ns["my_sampler"](space, seed)

    rs = RandomSearch(space=ns["search_space"], seed=42, sampler=spy)
    rs.ask()
    space, seed = received[0]
    assert space is ns["search_space"]  # the space exactly as given
    assert type(seed) is int


def test_same_seed_same_configurations(run_block):
    ns, _ = run_block(find(PAGE, "Random Search", "RandomSearch Custom Sample Function"))

    def configs(sampler, seed):
        rs = RandomSearch(space=ns["search_space"], seed=seed, sampler=sampler)
        return [dict(rs.ask().config) for _ in range(20)]

    # The whole configuration, "y" included, is the same for the same seed, whatever numpy's
    # global generator did in between.
    first = configs(ns["my_sampler"], 42)
    np.random.seed(0)
    assert configs(ns["my_sampler"], 42) == first
    np.random.seed(1)
    assert configs(ns["my_sampler"], 42) == first
    assert configs(ns["my_sampler"], 42) != configs(ns["my_sampler"], 43)
    assert {c["y"] for c in first} == {"cat", "dog", "fish"}
    assert configs(None, 42) == configs(None, 42)  # byop's own sampler on the dict space


@pytest.mark.parametrize("label", ["Running the optmizer", "Typed"])
def test_running_an_optimizer_sequentially(run_block, label):
    ns, _ = run_block(find(PAGE, "Running an Optimizer", label))
    results = ns["results"]
    rs: RandomSearch = ns["random_search"]
    assert len(results) == 20
    assert all(isinstance(c, float) for c in results)
    assert not rs._pending  # every trial asked was told
    # The costs are the polynomial of the configurations asked, in order.
    again = RandomSearch(space=ns["space"], seed=42)
    expected = []
    for _ in range(20):
        x = again.ask().config["x"]
        expected.append((x**2 + 4 * x + 3) / x)
    assert results == pytest.approx(expected)


def test_typed_loop_reports_are_typed(run_block):
    ns, _ = run_block(find(PAGE, "Running an Optimizer", "Typed"))
    trial: Trial[RSTrialInfo] = ns["trial"]
    assert isinstance(trial.info, RSTrialInfo)
    assert isinstance(trial.report, Trial.SuccessReport)
