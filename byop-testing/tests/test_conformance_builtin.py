"""byop's own random search and samplers run the conformance suites."""

from __future__ import annotations

import pytest

from byop.optimization import RandomSearch, Trial
from byop.pipeline import Float, InvalidSpaceError, NumpySampler
from byop.testing import (
    ConditionalSpaceConformance,
    OptimizerConformance,
    SamplerConformance,
    active_names,
    cost_of,
    mixed_space,
    nested_space,
)


class TestRandomSearch(OptimizerConformance, ConditionalSpaceConformance):
    optimizer_name = "random_search"
    checks_results = False  # random search does not look at results


class TestNumpySampler(SamplerConformance):
    sampler = NumpySampler


class TestNumpySamplerInstance(SamplerConformance):
    sampler = NumpySampler()


# ---------------------------------------------------------------------- the suite can fail
class _Forgetful:
    """Breaks the contract: one name for every trial, tells ignored, the seed ignored."""

    def __init__(self, *, space, seed=None, **kwargs):
        self.space = space
        self.n = 0  # ignores the seed

    def ask(self):
        self.n += 1
        return Trial(name="same", config=self.space.default_config() | {"x": float(self.n % 5)})

    def tell(self, report):
        pass


class _BrokenSuite(OptimizerConformance):
    def create(self, *, space, seed, **kwargs):
        return _Forgetful(space=space, seed=seed)


@pytest.mark.parametrize(
    "test",
    [
        "test_trial_names_are_unique",
        "test_tell_of_a_trial_not_asked_raises",
        "test_tell_twice_raises",
        "test_other_seed_other_trials",
    ],
)
def test_the_suite_catches_a_broken_optimizer(test):
    with pytest.raises(AssertionError):
        try:
            getattr(_BrokenSuite(), test)()
        except pytest.fail.Exception as e:
            raise AssertionError(str(e)) from e


def test_the_suite_needs_a_name_or_create():
    with pytest.raises(TypeError, match="optimizer_name"):
        OptimizerConformance().create(space=mixed_space(), seed=1)


def test_cost_of_is_deterministic_and_sensitive():
    config = {"x": 1.0, "kind": "a", "n": 3, "flag": True, "none": None}
    assert cost_of(config) == cost_of(dict(config))
    assert cost_of(config) != cost_of(config | {"x": 2.0})


# ---------------------------------------------------------------------- the conditional suite
def _linear(space):
    return [
        Float(hp.lower, hp.upper, name=hp.name) if isinstance(hp, Float) else hp for hp in space
    ]


class _IgnoresConditions(ConditionalSpaceConformance):
    """Samples every hyperparameter, active or not, on a linear scale (amltk's old Optuna bugs)."""

    def create(self, *, space, seed, **kwargs):
        from byop.pipeline import Space

        flat = Space(
            [
                Float(hp.lower, hp.upper, name=hp.name) if isinstance(hp, Float) else hp
                for hp in space
            ]
        )
        return RandomSearch(space=flat, seed=seed)


class _LinearScale(ConditionalSpaceConformance):
    def create(self, *, space, seed, **kwargs):
        from byop.pipeline import Space

        hps = [
            Float(hp.lower, hp.upper, name=hp.name) if isinstance(hp, Float) else hp for hp in space
        ]
        return RandomSearch(space=Space(hps, conditions=space.conditions), seed=seed)


@pytest.mark.parametrize(
    ("suite", "test"),
    [
        (_IgnoresConditions, "test_nested_configs_hold_exactly_the_active_hyperparameters"),
        (_LinearScale, "test_log_scales_are_kept_under_conditions"),
    ],
)
def test_the_conditional_suite_catches_a_broken_optimizer(suite, test):
    with pytest.raises((AssertionError, InvalidSpaceError)):
        getattr(suite(), test)()


def test_nested_space_keys_are_paths():
    space = nested_space()
    assert "clf:svm:kernel:rbf:gamma" in space.names
    assert active_names(space, {"scaler:with_mean": True, "clf:__choice__": "tree"}) == {
        "scaler:with_mean",
        "clf:__choice__",
        "clf:tree:depth",
        "clf:tree:criterion",
    }
