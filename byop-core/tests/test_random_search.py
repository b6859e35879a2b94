from __future__ import annotations

import numpy as np
import pytest

from byop.optimization import (
    RandomSearch,
    RSTrialInfo,
    UnknownOptimizerError,
    UnknownTrialError,
    available_optimizers,
    create_optimizer,
)
from byop.pipeline import Categorical, Float, InvalidSpaceError, NumpySampler, Space


def space():
    return Space.from_dict({"x": (-10.0, 10.0), "c": ["a", "b"]})


def test_ask_tell_round_trip():
    rs = RandomSearch(space=space(), seed=1)
    trial = rs.ask()
    assert trial.name == "rs-0" and trial.seed == 1
    assert trial.info == RSTrialInfo(number=0, attempts=1)
    rs.tell(trial.success(cost=1.0))
    with pytest.raises(UnknownTrialError, match="already told"):
        rs.tell(trial.report)


def test_tell_of_a_foreign_trial_is_an_error():
    a = RandomSearch(space=space(), seed=1)
    b = RandomSearch(space=space(), seed=1)
    trial = a.ask()
    with pytest.raises(UnknownTrialError, match="was not asked of this RandomSearch"):
        b.tell(trial.success(cost=0))


def test_sampler_forms():
    s = space()
    for sampler in (NumpySampler, NumpySampler(), lambda sp, seed: {"x": float(seed % 7)}):
        rs = RandomSearch(space=s, seed=3, sampler=sampler)
        assert "x" in rs.ask().config
    with pytest.raises(TypeError, match="sampler= takes"):
        RandomSearch(space=s, seed=3, sampler=42)


def test_duplicates_allowed():
    rs = RandomSearch(space={"x": ["a"]}, seed=0, duplicates=True)
    assert [rs.ask().config["x"] for _ in range(5)] == ["a"] * 5


def test_exhausted_after_max_attempts():
    rs = RandomSearch(space={"x": ["a", "b"]}, seed=0, max_sample_attempts=5)
    rs.ask()
    rs.ask()
    with pytest.raises(RandomSearch.ExhaustedError, match="5 configurations in a row"):
        rs.ask()


def test_unsupported_space_names_what_to_install():
    class FakeCS:
        pass

    FakeCS.__module__ = "ConfigSpace.configuration_space"
    with pytest.raises(InvalidSpaceError, match=r"pip install byop\[configspace\]"):
        RandomSearch(space=FakeCS(), seed=0)


def test_restore_skips_seen_and_continues_numbering():
    first = RandomSearch(space=space(), seed=5)
    reports = []
    for _ in range(10):
        t = first.ask()
        reports.append(t.success(cost=0.0))
    resumed = RandomSearch(space=space(), seed=5)
    resumed.restore(reports)
    seen = {tuple(sorted(r.trial.config.items())) for r in reports}
    nxt = resumed.ask()
    assert nxt.name == "rs-10"
    assert tuple(sorted(nxt.config.items())) not in seen


@pytest.mark.parametrize("duplicates", [False, True])
def test_restore_of_many_reports_goes_on_where_the_earlier_run_stopped(duplicates):
    # More restored reports than max_sample_attempts: the replayed draws are passed over,
    # and the resumed search asks what the uninterrupted one would have asked.
    uninterrupted = RandomSearch(space=space(), seed=9, duplicates=duplicates)
    trials = [uninterrupted.ask() for _ in range(130)]
    reports = [t.success(cost=0.0) for t in trials[:100]]
    resumed = RandomSearch(space=space(), seed=9, duplicates=duplicates, max_sample_attempts=5)
    resumed.restore(reversed(reports))  # in any order
    asked = [resumed.ask() for _ in range(30)]
    assert [t.name for t in asked] == [t.name for t in trials[100:]]
    assert [t.config for t in asked] == [t.config for t in trials[100:]]


def test_create_by_name_and_unknown_name():
    rs = create_optimizer("random_search", space=space(), seed=2)
    assert isinstance(rs, RandomSearch)
    assert "random_search" in available_optimizers()
    with pytest.raises(UnknownOptimizerError, match=r"No optimizer named 'nope'.*'random_search'"):
        create_optimizer("nope", space=space())
    with pytest.raises(UnknownOptimizerError, match=r"pip install byop\[smac\]"):
        if "smac" in available_optimizers():
            raise UnknownOptimizerError("smac", [], "pip install byop[smac]")
        create_optimizer("smac", space=space())


def test_float_hyperparameter_constructed_directly():
    rs = RandomSearch(space={"lr": Float(1e-4, 1.0, log=True)}, seed=0)
    assert 1e-4 <= rs.ask().config["lr"] <= 1.0


def test_a_space_or_seed_that_cannot_be_used_is_refused_when_made():
    with pytest.raises(InvalidSpaceError, match="'x' .*64 bits"):
        RandomSearch(space={"x": (0, 10**30)}, seed=0)
    with pytest.raises(InvalidSpaceError, match=r"Categorical\(\('a', 'b'\)\) weights"):
        RandomSearch(space={"c": Categorical(["a", "b"], weights=[float("nan"), 1])}, seed=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        RandomSearch(space={"x": (0.0, 1.0)}, seed="a")
    assert RandomSearch(space={"x": (0.0, 1.0)}, seed=np.int64(3)).seed == 3
