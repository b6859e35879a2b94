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
        ((10, 1), r"lower bound 10 above its upper bound 1; write it as \(1, 10\)"),
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


def test_numpy_numbers_are_plain_numbers():
    import numpy as np

    space = Space.from_dict(
        {"i": (np.int64(0), np.int64(5)), "f": (np.float32(0.5), 2), "k": np.int64(3)}
    )
    assert space["i"] == Integer(0, 5, name="i") and type(space["i"].lower) is int
    assert space["f"] == Float(0.5, 2.0, name="f") and type(space["f"].lower) is float
    assert space["k"] == Constant(3, name="k") and type(space["k"].value) is int
    assert Integer(np.int32(1), 9, default=np.int64(4)).default == 4


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Space.from_dict({"x": (0, 10**30)}), r"'x' .*does not fit in 64 bits"),
        (lambda: Float(-1e308, 1e308, name="x"), r"'x' .*too wide"),
        (lambda: Float(True, 2, name="x"), r"'x' needs a number as its lower bound, got bool"),
        (lambda: Float("0", 2, name="x"), r"'x' needs a number as its lower bound, got str"),
        (lambda: Integer(0, 10, default=2.5, name="n"), r"'n' needs an int as its default"),
        (lambda: Integer(0.0, 10, name="n"), r"'n' needs an int as its lower bound.*use Float"),
        (lambda: Float(0, 1, default="a", name="x"), r"'x' needs a number as its default"),
        (lambda: Float(0, 1, log="yes", name="x"), r"'x': log must be True or False"),
        (
            lambda: Categorical(["a", "b"], weights=[float("nan"), 1], name="c"),
            r"'c' weights must be finite numbers",
        ),
        (lambda: Categorical(["a"], weights=["1"], name="c"), r"'c' weights must be finite"),
        (lambda: Categorical("abc", name="c"), r"'c' takes a list of choices, got the string"),
        (lambda: Categorical(5, name="c"), r"'c' takes a list of choices, got int"),
        (lambda: Space.from_dict({"x": (1, 1)}), r"'x' is empty: both its bounds are 1\."),
    ],
    ids=[
        "huge-int",
        "too-wide",
        "bool-bound",
        "str-bound",
        "float-default-of-int",
        "float-bound-of-int",
        "str-default",
        "log-not-bool",
        "nan-weight",
        "str-weight",
        "string-choices",
        "int-choices",
        "equal-bounds",
    ],
)
def test_a_space_that_cannot_be_sampled_is_refused_when_made(make, message):
    with pytest.raises(InvalidSpaceError, match=message):
        make()


def test_equal_bounds_do_not_hint_what_was_written():
    with pytest.raises(InvalidSpaceError) as e:
        Space.from_dict({"x": (1, 1)})
    assert "(1, 1)" not in str(e.value)


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
