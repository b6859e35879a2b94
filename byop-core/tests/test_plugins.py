from __future__ import annotations

from importlib import metadata

import pytest

from byop.plugins import (
    HOOK_NAMES,
    MissingDependencyError,
    PluginSystem,
    UnknownFeatureError,
    hookimpl,
    import_optional,
)

CORE = [ep for ep in metadata.entry_points(group="byop") if ep.dist.name == "byop-core"]
"""byop-core's own plugins: its entry points, as installed."""


def system(*plugins, environ=None, entry_points=()):
    s = PluginSystem(environ=environ or {}, entry_points=lambda: [*CORE, *entry_points])
    for name, plugin in plugins:
        s.add(plugin, name)
    return s


def test_builtins_register_through_the_hooks():
    s = system()
    assert s.available("optimizers") == ["asha", "hyperband", "random_search", "successive_halving"]
    assert "numpy" in s.available("samplers")
    core = [p for p in s.plugins() if p.distribution == "byop-core"]
    assert [p.name for p in core] == ["byop.optimization", "byop.pipeline", "byop.scheduling"]
    assert all(p.ok for p in core)
    assert core[0].hooks == ("register_optimizers", "register_pruners")
    assert set(s.available("backends")) == {"processes", "threads", "sequential"}


def test_inline_plugin_registers_and_unregisters():
    class Plugin:
        @hookimpl
        def register_optimizers(self, register):
            register("mine", dict)

    s = system(("mine-plugin", Plugin()))
    assert s.get("optimizers", "mine").obj is dict
    assert s.get("optimizers", "mine").plugin == "mine-plugin"
    s.remove("mine-plugin")
    with pytest.raises(UnknownFeatureError, match="No optimizer named 'mine'"):
        s.get("optimizers", "mine")


def test_hook_that_raises_is_recorded_and_others_still_work():
    class Bad:
        @hookimpl
        def register_optimizers(self, register):
            raise RuntimeError("oops")

    s = system(("bad", Bad()))
    info = {p.name: p for p in s.plugins()}["bad"]
    assert "register_optimizers raised RuntimeError: oops" in info.error
    assert "random_search" in s.available("optimizers")


def test_duplicate_name_keeps_the_first_and_warns_about_the_second():
    class Dup:
        @hookimpl
        def register_optimizers(self, register):
            register("random_search", object)
            register("mine", dict)

    s = system(("dup", Dup()))
    assert s.get("optimizers", "random_search").plugin == "byop.optimization"
    assert s.get("optimizers", "mine").plugin == "dup"  # the rest of it still works
    dup = {p.name: p for p in s.plugins()}["dup"]
    assert dup.error is None
    assert dup.registered == (("optimizers", "mine"),)
    (warning,) = dup.warnings
    assert "'random_search' was ignored" in warning
    assert "'byop.optimization' registered that name first" in warning


def _ep(name, value):
    return metadata.EntryPoint(name=name, value=value, group="byop")


def test_entry_point_that_fails_to_import_is_recorded():
    s = system(entry_points=[_ep("ghost", "module_that_is_not_there_at_all")])
    ghost = {p.name: p for p in s.plugins()}["ghost"]
    assert ghost.error.startswith("ModuleNotFoundError")
    assert s.available("optimizers") == ["asha", "hyperband", "random_search", "successive_halving"]


def test_misspelt_hook_is_a_warning_that_names_the_hook_meant():
    import types

    module = types.ModuleType("misspelt")

    @hookimpl
    def register_optimizer(register):  # missing "s"
        register("x", object)

    module.register_optimizer = register_optimizer
    import sys

    sys.modules["misspelt_plugin_mod"] = module
    try:
        s = system(entry_points=[_ep("misspelt", "misspelt_plugin_mod")])
        info = {p.name: p for p in s.plugins()}["misspelt"]
        assert info.error is None
        (warning,) = info.warnings
        assert "'register_optimizer' matches no byop hook" in warning
        assert "did you mean 'register_optimizers'?" in warning
    finally:
        del sys.modules["misspelt_plugin_mod"]


def test_loading_is_lazy_and_once():
    calls = []

    def eps():
        calls.append(1)
        return CORE

    s = PluginSystem(environ={}, entry_points=eps)
    assert calls == []
    s.available("optimizers")
    s.available("samplers")
    s.plugins()
    assert calls == [1]


def test_every_hook_is_documented():
    import byop.plugins._hookspecs as hookspecs

    for name in HOOK_NAMES:
        doc = getattr(hookspecs, name).__doc__
        assert doc and "register(" in doc, name


def test_import_optional_names_what_to_install():
    with pytest.raises(MissingDependencyError, match=r"pip install byop\[nothing\]"):
        import_optional("a_module_that_is_not_installed", install="byop[nothing]")


def test_a_blocked_name_that_matches_no_plugin_is_a_warning():
    s = system(environ={"BYOP_BLOCK_PLUGINS": "smack"}, entry_points=[_ep("smac", "json")])
    (warning,) = s.warnings()
    assert "names 'smack', which is no installed plugin" in warning
    assert "did you mean 'smac'?" in warning


def test_each_plugin_lists_what_it_registers():
    s = system()
    by_name = {p.name: p for p in s.plugins()}
    assert by_name["byop.scheduling"].registered == (
        ("backends", "processes"),
        ("backends", "threads"),
        ("backends", "sequential"),
    )
