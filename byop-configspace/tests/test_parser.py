from __future__ import annotations

import pytest
from ConfigSpace import (
    AndConjunction,
    BetaFloatHyperparameter,
    CategoricalHyperparameter,
    ConfigurationSpace,
    EqualsCondition,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    ForbiddenInClause,
    InCondition,
    OrConjunction,
    OrdinalHyperparameter,
    UniformFloatHyperparameter,
)

from byop.configspace import from_configspace, to_configspace
from byop.pipeline import (
    Categorical,
    Condition,
    Constant,
    Float,
    Forbidden,
    Integer,
    InvalidSpaceError,
    Space,
    searchable,
)


def full_space() -> Space:
    return Space(
        [
            Float(1e-4, 1.0, log=True, default=1e-2, name="lr"),
            Float(-1.0, 1.0, name="shift"),
            Integer(1, 64, log=True, name="width"),
            Integer(0, 5, default=3, name="depth"),
            Categorical(["sgd", "adam", "lbfgs"], weights=(1, 2, 1), default="adam", name="opt"),
            Categorical([1, 2.5, None, False], name="mixed"),
            Constant("fixed", name="const"),
            Float(0.0, 0.99, name="momentum"),
            Categorical(["yes", "no"], name="nesterov"),
        ],
        conditions=[
            Condition("momentum", "opt", ("sgd",)),
            Condition("nesterov", "opt", ("sgd", "lbfgs")),
            Condition("nesterov", "depth", (1, 2)),
        ],
        forbidden=[
            Forbidden([("opt", "lbfgs"), ("mixed", None)]),
            Forbidden([("depth", 0)]),
        ],
    )


def test_every_kind_of_hyperparameter_is_converted():
    cs = to_configspace(full_space(), seed=1, name="full")
    assert cs.name == "full"
    lr = cs["lr"]
    assert isinstance(lr, UniformFloatHyperparameter)
    assert (lr.lower, lr.upper, lr.log, lr.default_value) == (1e-4, 1.0, True, 1e-2)
    assert cs["width"].log and (cs["width"].lower, cs["width"].upper) == (1, 64)
    assert cs["depth"].default_value == 3
    opt = cs["opt"]
    assert isinstance(opt, CategoricalHyperparameter)
    assert list(opt.choices) == ["sgd", "adam", "lbfgs"]
    assert list(opt.weights) == [1, 2, 1]
    assert opt.default_value == "adam"
    assert list(cs["mixed"].choices) == [1, 2.5, None, False]
    assert cs["const"].value == "fixed"


def test_conditions_and_forbidden_clauses_are_converted():
    cs = to_configspace(full_space())
    by_child = {
        c.child.name if hasattr(c, "child") else c.dlcs[0].child.name: c for c in cs.conditions
    }
    assert isinstance(by_child["momentum"], EqualsCondition)
    assert by_child["momentum"].value == "sgd"
    nesterov = by_child["nesterov"]
    assert isinstance(nesterov, AndConjunction)
    kinds = sorted(type(c).__name__ for c in nesterov.components)
    assert kinds == ["InCondition", "InCondition"]
    kinds = sorted(type(f).__name__ for f in cs.forbidden_clauses)
    assert kinds == ["ForbiddenAndConjunction", "ForbiddenEqualsClause"]


def test_configspace_samples_respect_conditions_and_forbidden():
    space = full_space()
    cs = to_configspace(space, seed=5)
    for configuration in cs.sample_configuration(200):
        config = dict(configuration)
        assert ("momentum" in config) == (config["opt"] == "sgd")
        assert config["depth"] != 0
        assert not (config["opt"] == "lbfgs" and config["mixed"] is None)
        assert space.active(config) == config


def test_round_trip_keeps_the_space():
    space = full_space()
    back = from_configspace(to_configspace(space))
    assert set(back.names) == set(space.names)
    for hp in space:
        other = back[hp.name]
        assert type(other) is type(hp)
        if isinstance(hp, Float | Integer):
            assert (other.lower, other.upper, other.log) == (hp.lower, hp.upper, hp.log)
        if isinstance(hp, Categorical):
            assert other.choices == hp.choices and other.weights == (
                None if hp.weights is None else tuple(float(w) for w in hp.weights)
            )
        if hp.default is not None:
            assert other.default == hp.default
    assert set(back.conditions) == set(space.conditions)
    assert set(back.forbidden) == set(space.forbidden)


def test_searchable_space_with_the_configspace_parser():
    s = searchable("svm", space={"C": Float(0.1, 10.0, log=True), "kernel": ["rbf", "linear"]})
    cs = s.space(parser="configspace", seed=3)
    assert isinstance(cs, ConfigurationSpace)
    assert set(cs) == {"C", "kernel"}


def test_a_configuration_space_is_passed_through():
    cs = ConfigurationSpace({"x": (0.0, 1.0)})
    assert to_configspace(cs) is cs


def test_from_configspace_reads_ordinals_in_and_membership_clauses():
    cs = ConfigurationSpace(seed=1)
    size = OrdinalHyperparameter("size", ["s", "m", "l"], default_value="m")
    kind = CategoricalHyperparameter("kind", ["a", "b", "c"])
    extra = UniformFloatHyperparameter("extra", 0.0, 1.0)
    cs.add([size, kind, extra])
    cs.add(InCondition(extra, kind, ["a", "b"]))
    cs.add(
        ForbiddenAndConjunction(
            ForbiddenInClause(kind, ["b", "c"]), ForbiddenEqualsClause(size, "s")
        )
    )
    space = from_configspace(cs)
    assert space["size"] == Categorical(["s", "m", "l"], default="m", name="size")
    assert space.conditions == (Condition("extra", "kind", ("a", "b")),)
    assert set(space.forbidden) == {
        Forbidden([("kind", "b"), ("size", "s")]),
        Forbidden([("kind", "c"), ("size", "s")]),
    }


def test_what_byop_cannot_express_is_named():
    cs = ConfigurationSpace()
    cs.add(BetaFloatHyperparameter("b", alpha=2, beta=2, lower=0, upper=1))
    with pytest.raises(InvalidSpaceError, match=r"'b' is a BetaFloatHyperparameter"):
        from_configspace(cs)

    cs = ConfigurationSpace()
    a, b, c = (CategoricalHyperparameter(n, ["x", "y"]) for n in "abc")
    cs.add([a, b, c])
    cs.add(OrConjunction(EqualsCondition(c, a, "x"), EqualsCondition(c, b, "x")))
    with pytest.raises(InvalidSpaceError, match="OrConjunction"):
        from_configspace(cs)


def test_configspace_rejections_become_invalid_space_errors():
    # A condition on a parent value that is not one of its choices.
    space = Space(
        [Categorical(["a", "b"], name="p"), Float(0.0, 1.0, name="c")],
        conditions=[Condition("c", "p", ("zzz",))],
    )
    with pytest.raises(InvalidSpaceError, match="ConfigSpace cannot represent this space"):
        to_configspace(space)
