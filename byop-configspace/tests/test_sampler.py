from __future__ import annotations

import subprocess
import sys

import pytest
from ConfigSpace import ConfigurationSpace

from byop.configspace import ConfigSpaceSampler
from byop.optimization import RandomSearch
from byop.pipeline import Categorical, Condition, Float, Integer, Space, sampler_for, searchable
from byop.testing import ConditionalSpaceConformance, SamplerConformance


def space() -> Space:
    return Space(
        [
            Float(-10.0, 10.0, name="x"),
            Integer(1, 100, log=True, name="n"),
            Categorical(["a", "b"], weights=(3, 1), name="k"),
            Float(0.0, 1.0, name="only_a"),
        ],
        conditions=[Condition("only_a", "k", ("a",))],
    )


def take(stream, n):
    return [next(stream) for _ in range(n)]


@pytest.mark.parametrize("sampler", [ConfigSpaceSampler, ConfigSpaceSampler()])
def test_random_search_takes_the_class_or_an_instance(sampler):
    rs = RandomSearch(space=space(), seed=42, sampler=sampler)
    assert isinstance(rs.sampler, ConfigSpaceSampler)
    trials = [rs.ask() for _ in range(10)]
    for trial in trials:
        space().validate(trial.config)
        assert list(trial.config)[:3] == ["x", "n", "k"]  # byop's order, not ConfigSpace's


def test_same_seed_same_sequence_other_seed_other_sequence():
    sampler = ConfigSpaceSampler()
    first = take(sampler.stream(space(), 7), 150)  # more than one batch
    assert first == take(ConfigSpaceSampler().stream(space(), 7), 150)
    assert first != take(sampler.stream(space(), 8), 150)
    assert sampler.sample(space(), 7) == first[0]


def test_values_are_plain_python_and_only_active():
    for config in take(ConfigSpaceSampler().stream(space(), 1), 100):
        assert type(config["x"]) is float
        assert type(config["n"]) is int
        assert type(config["k"]) is str
        assert ("only_a" in config) == (config["k"] == "a")


def test_weights_are_respected():
    ks = [c["k"] for c in take(ConfigSpaceSampler().stream(space(), 3), 2000)]
    assert 0.70 < ks.count("a") / len(ks) < 0.80


def test_native_configuration_space_is_sampled_without_touching_its_random_state():
    cs = ConfigurationSpace({"a": (1, 5), "b": ["x", "y"]}, seed=11)
    before = cs.random.get_state()[1].copy()
    configs = take(ConfigSpaceSampler().stream(cs, 4), 20)
    assert (cs.random.get_state()[1] == before).all()
    assert all(set(c) == {"a", "b"} and type(c["b"]) is str for c in configs)
    assert configs == take(ConfigSpaceSampler().stream(cs, 4), 20)


def test_random_search_picks_this_sampler_for_a_configuration_space():
    cs = ConfigurationSpace({"a": (1, 5)})
    assert isinstance(sampler_for(cs), ConfigSpaceSampler)
    assert type(sampler_for(space())).__name__ == "NumpySampler"  # byop's own stays the default
    rs = RandomSearch(space=cs, seed=0)
    assert 1 <= rs.ask().config["a"] <= 5


def test_supports():
    assert ConfigSpaceSampler.supports(space())
    assert ConfigSpaceSampler.supports({"x": (0.0, 1.0)})
    assert ConfigSpaceSampler.supports(ConfigurationSpace())
    assert not ConfigSpaceSampler.supports([1, 2])


def test_dict_space_written_the_byop_way():
    rs = RandomSearch(space={"x": (0.0, 1.0), "c": ["u", "v"]}, seed=2, sampler=ConfigSpaceSampler)
    config = rs.ask().config
    assert 0.0 <= config["x"] <= 1.0 and config["c"] in {"u", "v"}


def test_loading_the_plugin_does_not_import_configspace():
    code = (
        "import sys\n"
        "from byop.plugins import available\n"
        "assert 'configspace' in available('samplers')\n"
        "assert 'configspace' in available('space_parsers')\n"
        "from byop.optimization import RandomSearch\n"
        "from byop.pipeline import searchable\n"
        "RandomSearch(space=searchable('s', space={'x': (0.0, 1.0)}).space(), seed=1).ask()\n"
        "assert 'ConfigSpace' not in sys.modules, 'ConfigSpace was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_searchable_space_through_the_registry():
    s = searchable("s", space={"x": (0.0, 1.0)})
    assert isinstance(s.space(parser="configspace"), ConfigurationSpace)


class TestConfigSpaceSamplerConformance(SamplerConformance):
    sampler = ConfigSpaceSampler


class TestRandomSearchOnConfigSpaceConditional(ConditionalSpaceConformance):
    """Random search drawing through ConfigSpace: conditions and nested choices are kept."""

    def create(self, *, space, seed, **kwargs):
        return RandomSearch(space=space, seed=seed, sampler=ConfigSpaceSampler, **kwargs)
