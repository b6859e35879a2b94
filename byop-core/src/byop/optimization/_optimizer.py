"""The ask-and-tell contract every optimizer fulfils."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any, Protocol, TypeVar, runtime_checkable

from attrs import frozen

from byop.optimization._trial import Report, Trial

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


@frozen
class Metric:
    """A result the objective reports, and which way is better.

    By default every optimizer uses one metric, ``cost``, minimised. Declare others once, and
    every optimizer translates them.

    Attributes:
        name: The key in ``report.results``.
        minimize: Whether lower is better.

    Example:
        ```python
        from byop.optimization import Metric

        accuracy = Metric("accuracy", minimize=False)
        assert accuracy.as_cost(0.9) == -0.9
        ```
    """

    name: str = "cost"
    minimize: bool = True

    def as_cost(self, value: float) -> float:
        """The value as a cost: lower is better."""
        return float(value) if self.minimize else -float(value)


DEFAULT_METRIC = Metric("cost", minimize=True)


def as_metrics(metrics: Metric | str | Iterable[Metric | str] | None) -> tuple[Metric, ...]:
    """Normalise a metric declaration: ``None`` is ``cost`` minimised; names are minimised."""
    if metrics is None:
        return (DEFAULT_METRIC,)
    if isinstance(metrics, Metric | str):
        metrics = [metrics]
    out = tuple(Metric(m) if isinstance(m, str) else m for m in metrics)
    if not out:
        raise ValueError("Declare at least one metric, or pass metrics=None for 'cost'.")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ValueError(f"Metric names must be unique, got {names}.")
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
