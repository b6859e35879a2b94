from __future__ import annotations

import pytest

from byop.pipeline import (
    Categorical,
    Condition,
    Constant,
    Float,
    Forbidden,
    Integer,
    InvalidSpaceError,
    NumpySampler,
    Space,
    searchable,
)


def test_dict_forms():
    space = Space.from_dict(
        {
            "f": (0.0, 1.0),
            "mixed": (0, 1.5),
            "i": (1, 10),
            "c": ["a", "b"],
            "k": "fixed",
            "lr": Float(1e-4, 1e-1, log=True, default=1e-2),
            "w": Categorical(["x", "y"], weights=[0.9, 0.1], default="x"),
        }
    )
    assert space["f"] == Float(0.0, 1.0, name="f")
    assert isinstance(space["mixed"], Float)
    assert space["i"] == Integer(1, 10, name="i")
    assert space["c"] == Categorical(["a", "b"], name="c")
    assert space["k"] == Constant("fixed", name="k")
    assert space["lr"].log and space["lr"].default == 1e-2
    assert space["w"].probabilities == pytest.approx((0.9, 0.1))
    default = space.default_config()
    assert default["lr"] == 1e-2 and default["c"] == "a" and default["k"] == "fixed"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((10, 1), r"lower bound 10.* not below its upper bound 1"),
        ((1, "a"), r"needs two numbers.*\(int, str\)"),
        ((1, 2, 3), r"range is a \(low, high\) tuple"),
        ([], r"at least one value"),
        ({1, 2}, r"cannot make a hyperparameter from set"),
        (object(), r"cannot make a hyperparameter from object"),
    ],
    ids=["reversed", "mixed-types", "three", "empty-list", "set", "object"],
)
def test_invalid_spaces_say_what_to_do(value, message):
    with pytest.raises(InvalidSpaceError, match=message):
        searchable("s", space={"x": value})


def test_log_scale_needs_a_positive_lower_bound():
    with pytest.raises(InvalidSpaceError, match=r"log scale.*> 0"):
        Float(0.0, 1.0, log=True)


def test_invalid_space_names_the_entry():
    with pytest.raises(InvalidSpaceError, match="'bad'"):
        searchable("s", space={"ok": (0, 1), "bad": (5, 5)})


def test_conditions_and_forbidden():
    space = Space.from_dict(
        {"kind": ["svm", "tree"], "C": (0.1, 10.0), "depth": (1, 5)},
        conditions=[Condition("C", "kind", ["svm"]), Condition("depth", "kind", ["tree"])],
        forbidden=[Forbidden([("kind", "tree"), ("depth", 5)])],
    )
    configs = [c for c, _ in zip(NumpySampler().stream(space, 0), range(300), strict=False)]
    for c in configs:
        assert ("C" in c) == (c["kind"] == "svm")
        assert ("depth" in c) == (c["kind"] == "tree")
        assert c.get("depth") != 5
    with pytest.raises(InvalidSpaceError, match="not in the space"):
        Space.from_dict({"a": (0, 1)}, conditions=[Condition("b", "a", [0])])


def test_prefix_and_join():
    a = Space.from_dict({"x": (0.0, 1.0)}).prefixed("step")
    b = Space.from_dict({"y": ["u"]})
    joined = Space.join(a, b)
    assert joined.names == ("step:x", "y")
    with pytest.raises(InvalidSpaceError, match="appears twice"):
        Space.join(joined, b)


def test_numpy_sampler_respects_ranges_and_is_deterministic():
    space = Space.from_dict(
        {
            "f": (-1.0, 1.0),
            "lf": Float(1e-3, 1.0, log=True),
            "i": (3, 7),
            "li": Integer(1, 1000, log=True),
            "c": ["a", "b", "c"],
            "k": 7,
        }
    )
    a = [c for c, _ in zip(NumpySampler().stream(space, 11), range(500), strict=False)]
    b = [c for c, _ in zip(NumpySampler().stream(space, 11), range(500), strict=False)]
    assert a == b
    for c in a:
        space.validate(c)
        assert type(c["i"]) is int and type(c["f"]) is float
    assert {c["i"] for c in a} == {3, 4, 5, 6, 7}
    assert {c["c"] for c in a} == {"a", "b", "c"}
    small = sum(c["li"] < 32 for c in a)
    assert small > 150  # log scale favours small values (about half below sqrt(1000))


def test_space_parser_registry():
    s = searchable("s", space={"x": (0.0, 1.0)})
    assert s.space(parser="byop") == s.space()
    from byop.plugins import UnknownFeatureError

    with pytest.raises(UnknownFeatureError, match="No space parser named 'nope'"):
        s.space(parser="nope")
