"""byop's own search-space model, which every space parser converts from.

A `Space` is an ordered set of named hyperparameters (`Float`, `Integer`, `Categorical`,
`Constant`), with optional `Condition`s (a hyperparameter is active only when a parent takes
certain values) and `Forbidden` combinations. Names are hierarchical: `Space.prefixed` puts a
step's name in front (``"step:x"``) so that spaces of several steps can be joined.

Plain dictionaries are the short way to write a space; `Space.from_dict` reads them:

- ``(low, high)`` with two ints is an `Integer` range, with a float a `Float` range;
- a list is a `Categorical` choice;
- a single value (``str``, ``int``, ``float``, ``bool``, ``None``) is a `Constant`;
- a `Float`, `Integer`, `Categorical` or `Constant` gives log scale, weights and defaults.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from attrs import evolve, field, frozen

from byop.pipeline._errors import InvalidSpaceError
from byop.pipeline._hyperparameters import (
    HYPERPARAMETER_TYPES,
    Categorical,
    Constant,
    Float,
    Hyperparameter,
    Integer,
    freeze,
    is_integral,
    is_real,
)

SEPARATOR = ":"
"""Between a step's name and its hyperparameter's name: ``"step:x"``."""


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise InvalidSpaceError(f"Hyperparameter names are strings, got {name!r}.")


@frozen
class Condition:
    """``child`` is active only when ``parent`` takes one of ``values``."""

    child: str
    parent: str
    values: tuple[Any, ...] = field(converter=tuple)

    def holds(self, config: Mapping[str, Any]) -> bool:
        """Whether the condition holds in ``config`` (a missing parent never satisfies it)."""
        if self.parent not in config:
            return False
        value = config[self.parent]
        return any(value == v for v in self.values)


def _clauses(value: Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    return tuple((str(name), v) for name, v in value)


@frozen
class Forbidden:
    """A combination of values that may not occur together: all ``name == value`` at once."""

    clauses: tuple[tuple[str, Any], ...] = field(converter=_clauses)

    def matches(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` has this forbidden combination."""
        return all(name in config and config[name] == value for name, value in self.clauses)


def config_key(config: Mapping[str, Any]) -> Any:
    """A hashable key that is equal for equal configurations."""
    try:
        return frozenset(config.items())
    except TypeError:
        return frozenset((k, freeze(v)) for k, v in config.items())


def parse_value(name: str, value: Any) -> Hyperparameter:
    """Read one entry of a space written as a dictionary."""
    _check_name(name)
    if isinstance(value, HYPERPARAMETER_TYPES):
        return evolve(value, name=name)
    if isinstance(value, tuple):
        if len(value) != 2:
            raise InvalidSpaceError(
                f"{name!r}: a range is a (low, high) tuple of two numbers, got {value!r}; "
                "use a list for a choice between values."
            )
        low, high = value
        if not (is_real(low) and is_real(high)):
            raise InvalidSpaceError(
                f"{name!r}: a range needs two numbers, got {value!r} "
                f"({type(low).__name__}, {type(high).__name__}); use a list such as "
                f"{list(value)!r} for a choice between values."
            )
        if is_integral(low) and is_integral(high):
            return Integer(int(low), int(high), name=name)
        return Float(float(low), float(high), name=name)
    if isinstance(value, list):
        if not value:
            raise InvalidSpaceError(
                f"{name!r}: a choice needs at least one value, got an empty list."
            )
        return Categorical(value, name=name)
    if value is None or isinstance(value, str | int | float | bool):
        return Constant(value, name=name)
    if is_real(value) and callable(getattr(value, "item", None)):
        return Constant(value.item(), name=name)  # a numpy number, kept as a plain one
    raise InvalidSpaceError(
        f"{name!r}: cannot make a hyperparameter from {type(value).__name__} {value!r}. "
        "Use a (low, high) tuple for a range, a list for a choice, a single str/int/float/bool "
        "for a constant, or Float/Integer/Categorical/Constant from byop.pipeline."
    )


def _hyperparameters(value: Iterable[Hyperparameter]) -> tuple[Hyperparameter, ...]:
    return tuple(value)


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(value)


def _forbiddens(value: Iterable[Forbidden]) -> tuple[Forbidden, ...]:
    return tuple(value)


@frozen
class Space:
    """A search space: named hyperparameters, conditions and forbidden combinations.

    Example:
        ```python
        from byop.pipeline import Space

        space = Space.from_dict({"x": (-10.0, 10.0), "n": (1, 5), "kind": ["a", "b"]})
        assert space.names == ("x", "n", "kind")
        assert type(space["n"]).__name__ == "Integer"
        ```
    """

    hyperparameters: tuple[Hyperparameter, ...] = field(converter=_hyperparameters)
    conditions: tuple[Condition, ...] = field(default=(), converter=_conditions)
    forbidden: tuple[Forbidden, ...] = field(default=(), converter=_forbiddens)
    _index: dict[str, Hyperparameter] = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        index: dict[str, Hyperparameter] = {}
        for hp in self.hyperparameters:
            if not isinstance(hp, HYPERPARAMETER_TYPES):
                raise InvalidSpaceError(
                    f"A Space holds Float, Integer, Categorical or Constant, got {hp!r}."
                )
            if not hp.name:
                raise InvalidSpaceError(f"Hyperparameter {hp!r} has no name.")
            if hp.name in index:
                raise InvalidSpaceError(f"Hyperparameter {hp.name!r} appears twice.")
            index[hp.name] = hp
        object.__setattr__(self, "_index", index)
        for cond in self.conditions:
            for ref in (cond.child, cond.parent):
                if ref not in index:
                    raise InvalidSpaceError(
                        f"Condition {cond!r} names {ref!r}, which is not in the space."
                    )
            if cond.child == cond.parent:
                raise InvalidSpaceError(f"Condition {cond!r} makes {cond.child!r} its own parent.")
        for forbidden in self.forbidden:
            for ref, value in forbidden.clauses:
                if ref not in index:
                    raise InvalidSpaceError(
                        f"Forbidden {forbidden!r} names {ref!r}, which is not in the space."
                    )
                if not index[ref].contains(value):
                    raise InvalidSpaceError(
                        f"Forbidden {forbidden!r}: {value!r} is not a value of {ref!r}."
                    )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(
        cls,
        space: Mapping[str, Any] | Space,
        *,
        conditions: Sequence[Condition] = (),
        forbidden: Sequence[Forbidden] = (),
    ) -> Space:
        """Read a space written as a dictionary (see the module's description).

        Raises:
            InvalidSpaceError: An entry is not a valid hyperparameter; the message says which
                and how to write it.
        """
        if isinstance(space, Space):
            return space
        if not isinstance(space, Mapping):
            raise InvalidSpaceError(
                f"A space is a dict of name to range, choice or constant, "
                f"got {type(space).__name__}."
            )
        return cls(
            [parse_value(name, value) for name, value in space.items()],
            conditions=conditions,
            forbidden=forbidden,
        )

    def prefixed(self, prefix: str) -> Space:
        """The same space with ``prefix:`` in front of every name."""
        if not prefix:
            return self

        def p(name: str) -> str:
            return f"{prefix}{SEPARATOR}{name}"

        return Space(
            [evolve(hp, name=p(hp.name)) for hp in self.hyperparameters],
            conditions=[Condition(p(c.child), p(c.parent), c.values) for c in self.conditions],
            forbidden=[Forbidden([(p(n), v) for n, v in f.clauses]) for f in self.forbidden],
        )

    @classmethod
    def join(cls, *spaces: Space) -> Space:
        """One space holding the hyperparameters of all; names must not collide."""
        return cls(
            [hp for s in spaces for hp in s.hyperparameters],
            conditions=[c for s in spaces for c in s.conditions],
            forbidden=[f for s in spaces for f in s.forbidden],
        )

    # ------------------------------------------------------------------ queries
    @property
    def names(self) -> tuple[str, ...]:
        """The hyperparameters' names, in order."""
        return tuple(self._index)

    def __getitem__(self, name: str) -> Hyperparameter:
        try:
            return self._index[name]
        except KeyError:
            have = list(self._index)
            raise KeyError(f"No hyperparameter {name!r}; the space has {have}.") from None

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[Hyperparameter]:
        return iter(self.hyperparameters)

    def __len__(self) -> int:
        return len(self.hyperparameters)

    def active(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` without the values whose conditions do not hold (in dependency order)."""
        if not self.conditions:
            return dict(config)
        out = dict(config)
        changed = True
        while changed:
            changed = False
            for cond in self.conditions:
                if cond.child in out and not cond.holds(out):
                    del out[cond.child]
                    changed = True
        return out

    def is_forbidden(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` has a forbidden combination."""
        return any(f.matches(config) for f in self.forbidden)

    def validate(self, config: Mapping[str, Any]) -> None:
        """Raise `InvalidSpaceError` unless ``config`` is a valid configuration of the space."""
        for name, value in config.items():
            if name not in self._index:
                raise InvalidSpaceError(f"Config has {name!r}, which is not in the space.")
            if not self._index[name].contains(value):
                raise InvalidSpaceError(f"Config value {name}={value!r} is out of its range.")
        if self.is_forbidden(config):
            raise InvalidSpaceError(f"Config {dict(config)!r} is a forbidden combination.")

    def default_config(self) -> dict[str, Any]:
        """A configuration of the defaults (the midpoint of a range or first choice without one)."""
        config: dict[str, Any] = {}
        for hp in self.hyperparameters:
            config[hp.name] = _default_of(hp)
        return self.active(config)


def _default_of(hp: Hyperparameter) -> Any:
    if hp.default is not None or isinstance(hp, Constant):
        return hp.default
    if isinstance(hp, Categorical):
        return hp.choices[0]
    if hp.log:
        mid = math.exp((math.log(hp.lower) + math.log(hp.upper)) / 2)
    else:
        mid = (hp.lower + hp.upper) / 2
    return round(mid) if isinstance(hp, Integer) else mid
