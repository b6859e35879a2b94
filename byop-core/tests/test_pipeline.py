"""Pipelines: nodes, names as paths, conditional spaces, configure, build."""

from __future__ import annotations

import copy
import pickle

import pytest

from byop.pipeline import (
    CHOICE,
    BuildError,
    Categorical,
    Choice,
    Component,
    Condition,
    Fixed,
    Float,
    InvalidPipelineError,
    Join,
    MissingParamError,
    NumpySampler,
    OutOfRangeError,
    Pipeline,
    Searchable,
    Sequential,
    Space,
    Split,
    UnknownKeyError,
    request,
    searchable,
)
from byop.plugins import UnknownFeatureError, add_plugin, hookimpl, remove_plugin


def svc(c=1.0, kernel="rbf", degree=3, seed=None):
    return ("svc", c, kernel, degree, seed)


def knn(k=5):
    return ("knn", k)


def scale():
    return "scale"


def impute(strategy="mean"):
    return ("impute", strategy)


def kernel_space():
    return Space(
        [
            Float(0.1, 10.0, log=True, name="c"),
            Categorical(["rbf", "poly"], name="kernel"),
            Float(2.0, 5.0, name="degree"),
        ],
        conditions=[Condition("degree", "kernel", ["poly"])],
    )


def pipeline():
    return Pipeline(
        Component(impute, space={"strategy": ["mean", "median"]}),
        Choice(scale, Fixed("identity", name="none"), name="scaler"),
        Choice(
            Component(svc, space=kernel_space(), config={"seed": request("seed")}),
            Component(knn, space={"k": (1, 30)}),
            name="clf",
        ),
    )


def test_keys_are_paths_from_the_node_asked():
    space = pipeline().space()
    assert space.names == (
        "impute:strategy",
        "scaler:__choice__",
        "clf:__choice__",
        "clf:svc:c",
        "clf:svc:kernel",
        "clf:svc:degree",
        "clf:knn:k",
    )
    assert pipeline()["clf"].space().names == (
        "__choice__",
        "svc:c",
        "svc:kernel",
        "svc:degree",
        "knn:k",
    )
    assert searchable("parameters", space={"x": (-10.0, 10.0)}).space().names == ("x",)
    assert space[f"clf:{CHOICE}"].choices == ("svc", "knn")


def test_everything_under_a_choice_is_conditional_on_it_nested_too():
    space = pipeline().space()
    conditions = {(c.child, c.parent, c.values) for c in space.conditions}
    assert ("clf:svc:c", "clf:__choice__", ("svc",)) in conditions
    assert ("clf:knn:k", "clf:__choice__", ("knn",)) in conditions
    # A component's own condition stays; its parent carries the choice's.
    assert ("clf:svc:degree", "clf:svc:kernel", ("poly",)) in conditions
    assert not any(
        c.child == "clf:svc:degree" and c.parent == "clf:__choice__" for c in space.conditions
    )
    configs = [c for c, _ in zip(NumpySampler().stream(space, 0), range(300), strict=False)]
    for config in configs:
        assert ("clf:knn:k" in config) == (config["clf:__choice__"] == "knn")
        assert ("clf:svc:degree" in config) == (config.get("clf:svc:kernel") == "poly")
    inner = Choice(Component(scale), Component(knn, space={"k": (1, 3)}), name="inner")
    nested = Choice(inner, Component(svc), name="outer").space()
    pairs = {(c.child, c.parent) for c in nested.conditions}
    assert pairs == {("inner:__choice__", "__choice__"), ("inner:knn:k", "inner:__choice__")}


def test_operators_make_sequential_choice_and_join():
    a, b, c = Component(scale), Component(knn), Component(svc)
    seq = a >> b >> c
    assert type(seq) is Sequential and [n.name for n in seq.nodes] == ["scale", "knn", "svc"]
    choice = a | b | c
    assert type(choice) is Choice and len(choice.nodes) == 3
    join = a & b
    assert type(join) is Join
    assert Pipeline is Sequential
    assert (scale >> Component(knn)).nodes[0].name == "scale"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Component(scale, name="a:b"), "may not contain ':'"),
        (lambda: Sequential(Component(scale), Component(scale)), "two children named 'scale'"),
        (lambda: Sequential(Component(scale, name="x"), name="x"), "parent and its child"),
        (lambda: Component(scale, name="__choice__"), "reserved"),
        (lambda: Choice(scale, knn, weights=[1.0]), "2 options but 1 weights"),
        (
            lambda: Component(svc, space={"c": (0.1, 1.0)}, config={"c": 1.0}),
            "in both config= and space=",
        ),
        (lambda: Split({"num": scale}), "no column selection for \\['num'\\]"),
        (lambda: Sequential(name="empty"), "at least one node"),
        (lambda: Component(None), "class or function"),
    ],
)
def test_malformed_pipelines_name_the_nodes(make, message):
    with pytest.raises(InvalidPipelineError, match=message):
        make()


def test_configure_keeps_the_chosen_branch_and_sets_every_value():
    config = {
        "clf:__choice__": "svc",
        "clf:svc:kernel": "poly",
        "clf:svc:degree": 4.0,
        "scaler:__choice__": "none",
    }
    configured = pipeline().configure(config, params={"seed": 7})
    clf = configured["clf"]
    assert [n.name for n in clf.nodes] == ["svc"]
    assert clf.nodes[0].config == {
        "seed": 7,
        "c": pytest.approx(1.0),
        "kernel": "poly",
        "degree": 4.0,
    }
    assert configured["impute"].config == {"strategy": "mean"}  # a default
    assert configured.space().names == ()
    assert configured.configure({}) == configured
    inactive = pipeline().configure({"clf:__choice__": "knn", "clf:svc:c": 2.0})
    assert inactive["clf"].nodes[0].name == "knn"


def test_bad_configs_are_specific_errors():
    with pytest.raises(UnknownKeyError, match=r"'clf:svc:C'.*Did you mean \['clf:svc:c'"):
        pipeline().configure({"clf:svc:C": 1.0}, params={"seed": 1})
    with pytest.raises(OutOfRangeError, match=r"clf:svc:c=100.0.*Float in \[0.1, 10.0\]"):
        pipeline().configure({"clf:svc:c": 100.0}, params={"seed": 1})
    with pytest.raises(OutOfRangeError, match="Categorical of \\['svc', 'knn'\\]"):
        pipeline().configure({"clf:__choice__": "rf"})
    with pytest.raises(
        MissingParamError, match=r"Component 'svc' \(at 'clf:svc'\) requests 'seed'"
    ):
        pipeline().configure({})
    with pytest.raises(TypeError, match="dict"):
        pipeline().configure([("a", 1)])


def test_requests_defaults_and_config_transform_run_last():
    def transform(config):
        return {**config, "c": config["c"] * 2}

    node = Component(
        svc,
        space={"c": (0.1, 1.0)},
        config={"seed": request("seed", default=3)},
        config_transform=transform,
    )
    assert node.configure({"c": 0.5}).config == {"seed": 3, "c": 1.0}
    assert node.configure({"c": 0.5}, params={"seed": 9}).config["seed"] == 9
    with pytest.raises(TypeError, match="not a dict"):
        Component(svc, config_transform=lambda c: 1).configure({})


def test_nodes_are_frozen_values_that_pickle_and_copy():
    p = pipeline()
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.deepcopy(p) == p
    with pytest.raises(AttributeError):
        p.name = "other"
    assert isinstance(searchable("s", space={"x": (0.0, 1.0)}), Searchable)
    assert "Component(svc, 'svc'" in repr(p)


def test_build_goes_through_the_register_builders_hook():
    class Builder:
        @hookimpl
        def register_builders(self, register):
            register("tuples", lambda node, **options: (node.name, options))

    add_plugin(Builder(), "test-builder")
    try:
        configured = pipeline().configure({}, params={"seed": 1})
        assert configured.build("tuples", x=1) == ("pipeline", {"x": 1})
        with pytest.raises(BuildError, match="still chooses between"):
            pipeline().build("tuples")
        with pytest.raises(BuildError, match="no item to build"):
            searchable("s", space={"x": (0.0, 1.0)}).build("tuples")
    finally:
        remove_plugin("test-builder")
    with pytest.raises(UnknownFeatureError, match=r"No builder named 'nonesuch'.*Available:"):
        configured.build("nonesuch")


def test_a_pipeline_with_nothing_to_search_has_one_configuration():
    from byop.optimization import RandomSearch

    space = Component(scale).space()
    assert len(space) == 0
    assert NumpySampler().sample(space, 0) == {}
    rs = RandomSearch(space=space, seed=0)
    assert rs.ask().config == {}
    with pytest.raises(RandomSearch.ExhaustedError):
        rs.ask()
