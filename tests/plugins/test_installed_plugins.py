"""Plugins installed as real distributions are discovered through their entry points."""

from __future__ import annotations

from importlib import metadata

import pytest

from byop.optimization import create_optimizer
from byop.pipeline import searchable
from byop.plugins import PluginSystem


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not (_installed("byop-hillclimb") and _installed("byop-broken-example")),
    reason="the fixture plugins are installed by `make dev` (and by .ci/run)",
)


def test_fixture_plugins_are_installed_in_ci():
    # In CI the skip above must never hide these tests.
    assert _installed("byop-hillclimb")


def test_installed_plugin_is_discovered_and_created_by_name():
    space = searchable("s", space={"x": (0.0, 1.0), "y": (-1.0, 1.0)}).space()
    optimizer = create_optimizer("hillclimb", space=space, seed=1)
    assert type(optimizer).__name__ == "HillClimber"
    assert optimizer.seed == 1
    trial = optimizer.ask()
    optimizer.tell(trial.success(cost=1.0))
    assert optimizer.best is not None


def test_broken_plugin_is_listed_with_its_error_and_the_rest_work():
    system = PluginSystem(environ={})  # neither strict nor blocking
    infos = {p.name: p for p in system.plugins()}
    broken = infos["broken"]
    assert broken.distribution == "byop-broken-example"
    assert broken.version == "0.0.1"
    assert broken.error is not None and "ModuleNotFoundError" in broken.error
    assert "byop_dependency_that_does_not_exist" in (broken.traceback or "")
    assert broken.hooks == ()
    hill = infos["hillclimb"]
    assert hill.error is None
    assert hill.distribution == "byop-hillclimb"
    assert hill.hooks == ("register_optimizers",)
    assert "hillclimb" in system.available("optimizers")
    assert "random_search" in system.available("optimizers")


def test_blocking_a_plugin_by_environment():
    system = PluginSystem(environ={"BYOP_BLOCK_PLUGINS": "hillclimb,broken"})
    infos = {p.name: p for p in system.plugins()}
    assert infos["hillclimb"].blocked and infos["broken"].blocked
    assert "hillclimb" not in system.available("optimizers")


def test_strict_loading_raises_and_names_the_broken_plugin():
    from byop.plugins import PluginLoadError

    system = PluginSystem(environ={"BYOP_STRICT_PLUGINS": "1"})
    with pytest.raises(PluginLoadError, match=r"broken \(byop-broken-example\)"):
        system.load()
