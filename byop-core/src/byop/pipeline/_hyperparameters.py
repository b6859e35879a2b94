"""The hyperparameters of byop's space: `Float`, `Integer`, `Categorical` and `Constant`.

Each checks its values when it is made, so that a space that cannot be sampled is refused
where it is written, with a message naming the hyperparameter, and never at the first
``ask()``. Numbers may be Python's or numpy's (``np.int64(3)``, ``np.float32(0.5)``); they are
kept as plain ``int`` and ``float``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from attrs import field, frozen

from byop.pipeline._errors import InvalidSpaceError

INT64_RANGE = (-(2**63), 2**63 - 2)
"""The bounds an `Integer` may have: samplers draw from ``[lower, upper + 1)`` as int64."""


def _label(kind: str, name: str, *values: Any) -> str:
    """How messages name a hyperparameter: ``Float 'lr'``, or, unnamed, as it was written."""
    if name:
        return f"{kind} {name!r}"
    return f"{kind}({', '.join(repr(v) for v in values)})"


def _set(obj: Any, attribute: str, value: Any) -> None:
    object.__setattr__(obj, attribute, value)  # a frozen class, settling a checked value


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (numpy's too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_integral(value: Any) -> bool:
    """Whether ``value`` is an integer (numpy's too), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _real(label: str, what: str, value: Any) -> float:
    if not is_real(value):
        raise InvalidSpaceError(
            f"{label} needs a number as its {what}, got {type(value).__name__} {value!r}."
        )
    return float(value)


def _integral(label: str, what: str, value: Any) -> int:
    if not is_integral(value):
        raise InvalidSpaceError(
            f"{label} needs an int as its {what}, got {type(value).__name__} "
            f"{value!r}" + ("; use Float for real numbers." if is_real(value) else ".")
        )
    return int(value)


def _check_log(label: str, log: Any) -> None:
    if not isinstance(log, bool):
        raise InvalidSpaceError(f"{label}: log must be True or False, got {log!r}.")


def _check_range(label: str, lower: float, upper: float, log: bool) -> None:
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise InvalidSpaceError(f"{label} needs finite bounds, got ({lower}, {upper}).")
    if lower == upper:
        raise InvalidSpaceError(
            f"{label} is empty: both its bounds are {lower}. For a fixed value, write the "
            f"value itself ({lower}), which makes a constant."
        )
    if lower > upper:
        raise InvalidSpaceError(
            f"{label} has its lower bound {lower} above its upper bound {upper}; write it "
            f"as ({upper}, {lower})."
        )
    if log and lower <= 0:
        raise InvalidSpaceError(
            f"{label} is on a log scale, so its lower bound must be > 0, got {lower}."
        )


@frozen
class Float:
    """A real number in ``[lower, upper]``, optionally sampled on a log scale.

    Example:
        ```python
        from byop.pipeline import Float, Space

        space = Space.from_dict({"lr": Float(1e-5, 1e-1, log=True, default=1e-3)})
        assert space["lr"].log
        ```
    """

    lower: float
    upper: float
    log: bool = field(default=False, kw_only=True)
    default: float | None = field(default=None, kw_only=True)
    name: str = field(default="", kw_only=True)

    def __attrs_post_init__(self) -> None:
        label = _label("Float", self.name, self.lower, self.upper)
        lower = _real(label, "lower bound", self.lower)
        upper = _real(label, "upper bound", self.upper)
        _check_log(label, self.log)
        _check_range(label, lower, upper, self.log)
        if not math.isfinite(upper - lower):
            raise InvalidSpaceError(
                f"{label} ({lower}, {upper}) is too wide to sample: its width "
                "overflows a float. Narrow it, or sample it on a log scale."
            )
        _set(self, "lower", lower)
        _set(self, "upper", upper)
        if self.default is not None:
            default = _real(label, "default", self.default)
            if not lower <= default <= upper:
                raise InvalidSpaceError(
                    f"The default of {label}, {default}, is outside its range [{lower}, {upper}]."
                )
            _set(self, "default", default)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid value of this hyperparameter."""
        return is_real(value) and self.lower <= value <= self.upper


@frozen
class Integer:
    """An integer in ``[lower, upper]`` (both included), optionally on a log scale."""

    lower: int
    upper: int
    log: bool = field(default=False, kw_only=True)
    default: int | None = field(default=None, kw_only=True)
    name: str = field(default="", kw_only=True)

    def __attrs_post_init__(self) -> None:
        label = _label("Integer", self.name, self.lower, self.upper)
        lower = _integral(label, "lower bound", self.lower)
        upper = _integral(label, "upper bound", self.upper)
        _check_log(label, self.log)
        _check_range(label, lower, upper, self.log)
        low, high = INT64_RANGE
        if lower < low or upper > high:
            raise InvalidSpaceError(
                f"{label} ({lower}, {upper}) does not fit in 64 bits: its bounds "
                f"must lie in [-2**63, 2**63 - 2]. Use Float (log=True) for larger numbers."
            )
        _set(self, "lower", lower)
        _set(self, "upper", upper)
        if self.default is not None:
            default = _integral(label, "default", self.default)
            if not lower <= default <= upper:
                raise InvalidSpaceError(
                    f"The default of {label}, {default}, is outside its range [{lower}, {upper}]."
                )
            _set(self, "default", default)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid value of this hyperparameter."""
        return is_integral(value) and self.lower <= value <= self.upper


def _choices(value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value  # type: ignore[return-value]  # refused, with its name, once it is known
    return tuple(value)


@frozen
class Categorical:
    """One of several choices, optionally weighted."""

    choices: tuple[Any, ...] = field(converter=_choices)
    weights: tuple[float, ...] | None = field(default=None, kw_only=True)
    default: Any = field(default=None, kw_only=True)
    name: str = field(default="", kw_only=True)

    def __attrs_post_init__(self) -> None:
        label = _label("Categorical", self.name, self.choices)
        choices: Any = self.choices  # anything the converter could not make a tuple of
        if isinstance(choices, str | bytes):
            raise InvalidSpaceError(
                f"{label} takes a list of choices, got the string {choices!r}: write "
                f"[{choices!r}] for a single choice (or a constant), or list({choices!r}) to "
                "choose among its characters."
            )
        if not isinstance(choices, tuple):
            raise InvalidSpaceError(
                f"{label} takes a list of choices, got {type(choices).__name__} {choices!r}."
            )
        if len(choices) == 0:
            raise InvalidSpaceError(f"{label} has no choices: give at least one value in the list.")
        if len(set(map(freeze, choices))) != len(choices):
            raise InvalidSpaceError(f"{label} lists a value twice: {list(choices)}.")
        if self.weights is not None:
            self._check_weights(label)
        if self.default is not None and not self.contains(self.default):
            raise InvalidSpaceError(
                f"The default of {label}, {self.default!r}, is not one of {list(choices)}."
            )

    def _check_weights(self, label: str) -> None:
        weights: Any = self.weights
        if isinstance(weights, str | bytes) or not isinstance(weights, Iterable):
            raise InvalidSpaceError(
                f"{label} takes a list of weights, one a choice, got {weights!r}."
            )
        weights = tuple(weights)
        if len(weights) != len(self.choices):
            raise InvalidSpaceError(
                f"{label} has {len(self.choices)} choices but {len(weights)} weights."
            )
        if not all(is_real(w) and math.isfinite(w) and w >= 0 for w in weights) or not (
            math.isfinite(sum(weights)) and sum(weights) > 0
        ):
            raise InvalidSpaceError(
                f"{label} weights must be finite numbers >= 0 with a positive sum, got "
                f"{list(weights)}."
            )
        _set(self, "weights", tuple(float(w) for w in weights))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of the choices."""
        return any(value == c and type(value) is type(c) for c in self.choices)

    @property
    def probabilities(self) -> tuple[float, ...]:
        """The probability of each choice (uniform without weights)."""
        if self.weights is None:
            return tuple(1.0 / len(self.choices) for _ in self.choices)
        total = float(sum(self.weights))
        return tuple(w / total for w in self.weights)


@frozen
class Constant:
    """A fixed value."""

    value: Any
    name: str = field(default="", kw_only=True)

    @property
    def default(self) -> Any:
        """A constant's default is its value."""
        return self.value

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is the constant."""
        return bool(value == self.value)


Hyperparameter: TypeAlias = Float | Integer | Categorical | Constant
HYPERPARAMETER_TYPES = (Float, Integer, Categorical, Constant)


def freeze(value: Any) -> Any:
    """A hashable stand-in for ``value``, for duplicate detection."""
    try:
        hash(value)
    except TypeError:
        if isinstance(value, Mapping):
            return tuple(sorted((k, freeze(v)) for k, v in value.items()))
        if isinstance(value, Iterable) and not isinstance(value, str | bytes):
            return tuple(freeze(v) for v in value)
        return repr(value)
    return value
