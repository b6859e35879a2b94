"""The ask-and-tell contract every optimizer fulfils."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

from attrs import field, frozen

from byop.optimization._report import Report
from byop.optimization._trial import Trial

Info = TypeVar("Info")


@runtime_checkable
class Optimizer(Protocol[Info]):
    """Anything that can be asked for a `Trial` and told its `Trial.Report`.

    ``Info`` is the type of ``trial.info``: whatever the optimizer keeps with each trial.

    Example:
        ```python
        from byop.optimization import Optimizer, Trial

        class Constant:
            def __init__(self) -> None:
                self.told = 0

            def ask(self) -> Trial[None]:
                return Trial(name=f"c-{self.told}", config={"x": 1})

            def tell(self, report: Trial.Report[None]) -> None:
                self.told += 1

        assert isinstance(Constant(), Optimizer)
        ```
    """

    def ask(self) -> Trial[Info]:
        """Propose the next trial to evaluate."""
        ...

    def tell(self, report: Report[Info]) -> None:
        """Update the optimizer with the report of a trial it proposed."""
        ...


@runtime_checkable
class SupportsRestore(Protocol[Info]):
    """An optimizer that can take reports of trials it did not ask for in this process.

    Used to resume a run from stored reports: `restore` must leave the optimizer as if it had
    asked for and been told each of them.
    """

    def restore(self, reports: Iterable[Report[Info]]) -> None:
        """Take in reports from an earlier run, without them having been asked for."""
        ...


def _bounds(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be (low, high) numbers, got {value!r}.") from None
    if not low < high:
        raise ValueError(f"bounds must be (low, high) with low < high, got {value!r}.")
    return (low, high)


@frozen
class Metric:
    """A result the objective reports, and which way is better.

    By default every optimizer uses one metric, ``cost``, minimised. Declare others once, and
    every optimizer translates them.

    Attributes:
        name: The key in ``report.results``.
        minimize: Whether lower is better.
        bounds: The range the values lie in, ``(low, high)``, when known: its worst end is what
            optimizers that need a number are told for a trial that failed or crashed.

    Example:
        ```python
        from byop.optimization import Metric

        accuracy = Metric("accuracy", minimize=False, bounds=(0.0, 1.0))
        assert accuracy.as_cost(0.9) == -0.9
        assert accuracy.worst == 0.0
        ```
    """

    name: str = "cost"
    minimize: bool = True
    bounds: tuple[float, float] | None = field(default=None, converter=_bounds)

    def as_cost(self, value: float) -> float:
        """The value as a cost: lower is better."""
        return float(value) if self.minimize else -float(value)

    @property
    def worst(self) -> float | None:
        """The worst value within the bounds (``None`` without bounds)."""
        if self.bounds is None:
            return None
        return self.bounds[1] if self.minimize else self.bounds[0]


DEFAULT_METRIC = Metric("cost", minimize=True)

_DIRECTIONS = {"min": True, "minimize": True, "max": False, "maximize": False}


def _metric(name: str, value: Any) -> Metric:
    if isinstance(value, Metric):
        if value.name != name:
            raise ValueError(
                f"metrics={{{name!r}: Metric({value.name!r}, ...)}}: the names differ."
            )
        return value
    if isinstance(value, str) and value.lower() in _DIRECTIONS:
        return Metric(name, minimize=_DIRECTIONS[value.lower()])
    raise ValueError(
        f"metrics={{{name!r}: {value!r}}}: say which way is better with 'min' or 'max' "
        "(or give a Metric)."
    )


def as_metrics(
    metrics: Metric | str | Iterable[Metric | str] | Mapping[str, Any] | None,
) -> tuple[Metric, ...]:
    """Normalise a metric declaration.

    ``None`` is ``cost`` minimised; a name is minimised; ``{"accuracy": "max", "latency":
    "min"}`` says which way each is better.

    Example:
        ```python
        from byop.optimization import Metric, as_metrics

        assert as_metrics({"accuracy": "max"}) == (Metric("accuracy", minimize=False),)
        ```
    """
    if metrics is None:
        return (DEFAULT_METRIC,)
    if isinstance(metrics, Metric | str):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        out = tuple(_metric(str(name), value) for name, value in metrics.items())
    else:
        out = tuple(Metric(m) if isinstance(m, str) else m for m in metrics)
    if not out:
        raise ValueError("Declare at least one metric, or pass metrics=None for 'cost'.")
    for m in out:
        if not isinstance(m, Metric):
            raise TypeError(f"A metric is a name or a Metric, got {type(m).__name__} {m!r}.")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ValueError(f"Metric names must be unique, got {names}.")
    return out


@frozen
class Fidelity:
    """A fidelity the objective can be evaluated at: epochs, a fraction of the data...

    Declared once, like metrics, and translated by every multi-fidelity optimizer; a trial
    carries the values it is to be evaluated at (`Trial.fidelities`, and `Trial.budget` when
    there is one fidelity). ``high`` is the full fidelity, what optimizers without
    multi-fidelity use.

    Attributes:
        name: Its name, e.g. ``"epochs"``.
        low: The lowest value worth evaluating at.
        high: The full fidelity.
        log: Whether steps between values are multiplicative (geometric).
        integer: Whether values are whole numbers.

    Example:
        ```python
        from byop.optimization import Fidelity

        epochs = Fidelity("epochs", 1, 27, integer=True)
        assert epochs.clip(30) == 27 and epochs.clip(2.4) == 2
        ```
    """

    name: str
    low: float
    high: float
    log: bool = False
    integer: bool = False

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"A fidelity needs a name, got {self.name!r}.")
        for label, value in (("low", self.low), ("high", self.high)):
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise ValueError(
                    f"Fidelity {self.name!r}: {label} must be a number, got {value!r}."
                )
        if not self.low < self.high:
            raise ValueError(
                f"Fidelity {self.name!r}: low must be below high, got "
                f"({self.low!r}, {self.high!r})."
            )
        if self.log and self.low <= 0:
            raise ValueError(
                f"Fidelity {self.name!r}: a log fidelity needs low > 0, got {self.low!r}."
            )

    def clip(self, value: float) -> float:
        """``value`` within ``[low, high]`` (rounded to an int, for an integer fidelity)."""
        value = min(self.high, max(self.low, float(value)))
        return round(value) if self.integer else value  # an int: range(epochs) works


def _fidelity(name: str, bounds: Any) -> Fidelity:
    if isinstance(bounds, Fidelity):
        return bounds
    try:
        low, high = bounds
    except (TypeError, ValueError):
        raise ValueError(
            f"fidelities={{{name!r}: {bounds!r}}}: give the range as (low, high), e.g. "
            f"{{{name!r}: (1, 27)}}, or a Fidelity."
        ) from None
    return Fidelity(name, low, high)


def as_fidelities(
    fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, tuple[float, float]] | None,
) -> tuple[Fidelity, ...]:
    """Normalise a fidelity declaration: none, one, several, or ``{"epochs": (1, 27)}``.

    Example:
        ```python
        from byop.optimization import Fidelity, as_fidelities

        assert as_fidelities({"epochs": (1, 9)}) == (Fidelity("epochs", 1, 9),)
        ```
    """
    if fidelities is None:
        return ()
    if isinstance(fidelities, Fidelity):
        return (fidelities,)
    if isinstance(fidelities, str):  # type: ignore[unreachable]  # a user's mistake
        raise TypeError(
            f"fidelities={fidelities!r}: declare a fidelity with its range, e.g. "
            f"Fidelity({fidelities!r}, 1, 27, integer=True) or {{{fidelities!r}: (1, 27)}}."
        )
    if isinstance(fidelities, Mapping):
        out = tuple(_fidelity(str(name), bounds) for name, bounds in fidelities.items())
    else:
        out = tuple(fidelities)
    for f in out:
        if not isinstance(f, Fidelity):
            raise TypeError(f"A fidelity is a Fidelity, got {type(f).__name__} {f!r}.")
    names = [f.name for f in out]
    if len(set(names)) != len(names):
        raise ValueError(f"Fidelity names must be unique, got {names}.")
    return out


MAX_SEED = 2**32 - 1
"""The largest seed: every optimizer's library takes seeds in ``[0, 2**32)``."""


def as_seed(seed: Any) -> int | None:
    """A checked seed: ``None`` (draw one), or an int in ``[0, 2**32)`` (numpy's ints too).

    Optimizers check their seed with it when they are made, so that a bad seed is refused
    there and not at the first ``ask()``.

    Raises:
        TypeError: ``seed`` is not an int.
        ValueError: ``seed`` is negative or too large.

    Example:
        ```python
        from byop.optimization import as_seed

        assert as_seed(7) == 7 and as_seed(None) is None
        ```
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be an int (or None to draw one), got {type(seed).__name__} {seed!r}."
        )
    value = int(seed)
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"seed must be in [0, 2**32 - 1], got {value}.")
    return value
