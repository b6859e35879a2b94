"""Pruners: rules that stop unpromising trials early, from their intermediate results.

A pruner sees every `Trial.report_progress` of a run's trials (in the process that runs the
optimization, whatever the back end) and answers whether that trial should stop. It works
with any optimizer: the optimizer is then told the trial's `PrunedReport`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from byop.optimization._optimizer import Metric, as_metrics
from byop.optimization._report import Report
from byop.optimization._trial import Trial


@runtime_checkable
class Pruner(Protocol):
    """Decides, from a running trial's intermediate results, whether it should stop.

    Example:
        ```python
        from byop.optimization import Pruner

        class StopAtTen:
            def should_stop(self, trial, step, values):
                return step >= 10

            def tell(self, report):
                pass

        assert isinstance(StopAtTen(), Pruner)
        ```
    """

    def should_stop(self, trial: Trial[Any], step: float, values: Mapping[str, Any]) -> bool:
        """Take in one intermediate report of ``trial``; whether it should stop now."""
        ...

    def tell(self, report: Report[Any]) -> None:
        """A trial ended (its final report, of any status)."""
        ...


class MissingProgressMetricError(KeyError):
    """A trial reported progress without the metric its pruner judges."""

    def __str__(self) -> str:
        return str(self.args[0])


def _signed(metric: Metric, trial: Trial[Any], values: Mapping[str, Any]) -> float:
    """The metric's value, as a cost (lower is better); NaN counts as the worst."""
    try:
        value = float(values[metric.name])
    except KeyError:
        have = ", ".join(repr(k) for k in values) or "no values"
        raise MissingProgressMetricError(
            f"Trial {trial.name!r} reported progress with {have}, but the pruner judges "
            f"{metric.name!r}: report it, as trial.report_progress(step, "
            f"{metric.name}=...), or give the pruner the metric to judge (metric=...)."
        ) from None
    if math.isnan(value):
        return math.inf
    return value if metric.minimize else -value


def _one_metric(metric: Metric | str | None) -> Metric:
    return as_metrics(metric)[0]


class MedianPruner:
    """The median stopping rule: stop a trial doing worse than the others at the same step.

    A trial stops when its best value so far is worse than the median of the other trials'
    values at the step it reports.

    Args:
        metric: The metric to judge (by default the run's first, ``cost`` minimised).
        warmup_steps: No trial stops before this step.
        min_trials: No decision until this many other trials reported at that step.

    Example:
        ```python
        from byop.optimization import MedianPruner, Trial

        pruner = MedianPruner(min_trials=2)
        for i, cost in enumerate([0.2, 0.3, 0.9]):
            trial = Trial(name=f"t{i}", config={})
            stop = pruner.should_stop(trial, 1, {"cost": cost})
        assert stop  # 0.9 is worse than the median of 0.2 and 0.3
        ```
    """

    def __init__(
        self,
        metric: Metric | str | None = None,
        *,
        warmup_steps: float = 0,
        min_trials: int = 5,
    ) -> None:
        if isinstance(min_trials, bool) or not isinstance(min_trials, int) or min_trials < 1:
            raise ValueError(f"min_trials must be a positive int, got {min_trials!r}.")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int | float):
            raise TypeError(f"warmup_steps must be a number, got {warmup_steps!r}.")
        self.metric = _one_metric(metric)
        self.warmup_steps = warmup_steps
        self.min_trials = min_trials
        self._at: dict[float, dict[str, float]] = {}  # step -> trial -> value (as a cost)
        self._best: dict[str, float] = {}  # trial -> best value so far (as a cost)

    def should_stop(self, trial: Trial[Any], step: float, values: Mapping[str, Any]) -> bool:
        """Record the value; stop when the trial's best so far is worse than the median."""
        value = _signed(self.metric, trial, values)
        name = trial.name
        best = min(value, self._best.get(name, math.inf))
        self._best[name] = best
        at = self._at.setdefault(step, {})
        at[name] = value
        if step < self.warmup_steps:
            return False
        others = sorted(v for k, v in at.items() if k != name)
        if len(others) < self.min_trials:
            return False
        n = len(others)
        median = others[n // 2] if n % 2 else (others[n // 2 - 1] + others[n // 2]) / 2
        return best > median

    def tell(self, report: Report[Any]) -> None:
        """Nothing to do: a trial's values stay, for the trials after it."""

    def __repr__(self) -> str:
        return (
            f"MedianPruner(metric={self.metric.name!r}, warmup_steps={self.warmup_steps}, "
            f"min_trials={self.min_trials})"
        )


class SuccessiveHalvingPruner:
    """ASHA's rule: at each rung, a trial goes on only if it is among the best ``1/eta``.

    The rungs are at steps ``min_step * eta**k``; a trial reaching one is compared with the
    values that reached it so far.

    The first trials at a rung, fewer than ``eta``, go on only if they are the best there.

    Args:
        metric: The metric to judge (by default the run's first, ``cost`` minimised).
        min_step: The first rung's step.
        eta: The reduction factor (at least 2).

    Example:
        ```python
        from byop.optimization import SuccessiveHalvingPruner, Trial

        pruner = SuccessiveHalvingPruner(min_step=1, eta=2)
        first = pruner.should_stop(Trial(name="a", config={}), 1, {"cost": 0.1})
        second = pruner.should_stop(Trial(name="b", config={}), 1, {"cost": 0.5})
        assert not first and second
        ```
    """

    def __init__(
        self, metric: Metric | str | None = None, *, min_step: float = 1, eta: int = 3
    ) -> None:
        if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
            raise ValueError(f"eta must be an int of at least 2, got {eta!r}.")
        if isinstance(min_step, bool) or not isinstance(min_step, int | float) or min_step <= 0:
            raise ValueError(f"min_step must be a positive number, got {min_step!r}.")
        self.metric = _one_metric(metric)
        self.min_step = min_step
        self.eta = eta
        self._rungs: list[list[float]] = []  # the values that reached each rung
        self._judged: dict[str, int] = {}  # trial -> rungs it passed

    def _rung_step(self, k: int) -> float:
        return float(self.min_step * self.eta**k)

    def should_stop(self, trial: Trial[Any], step: float, values: Mapping[str, Any]) -> bool:
        """At each rung the trial reaches, compare it with the values that reached it."""
        value = _signed(self.metric, trial, values)
        name = trial.name
        k = self._judged.get(name, 0)
        while step >= self._rung_step(k):
            if len(self._rungs) <= k:
                self._rungs.append([])
            rung = self._rungs[k]
            rung.append(value)
            keep = max(1, len(rung) // self.eta)
            if sorted(rung).index(value) >= keep:
                self._judged[name] = k + 1
                return True
            k += 1
        self._judged[name] = k
        return False

    def tell(self, report: Report[Any]) -> None:
        """Forget which rungs the trial passed (its values stay at their rungs)."""
        self._judged.pop(report.trial.name, None)

    def __repr__(self) -> str:
        return (
            f"SuccessiveHalvingPruner(metric={self.metric.name!r}, min_step={self.min_step}, "
            f"eta={self.eta})"
        )


class NoPruner:
    """Never stops a trial (the optimizer alone may still say so)."""

    def __init__(self, metric: Metric | str | None = None) -> None:
        self.metric = _one_metric(metric)

    def should_stop(self, trial: Trial[Any], step: float, values: Mapping[str, Any]) -> bool:
        """Never."""
        return False

    def tell(self, report: Report[Any]) -> None:
        """Nothing to do."""


def available_pruners() -> list[str]:
    """The names `create_pruner` accepts, from every installed plugin.

    Example:
        ```python
        from byop.optimization import available_pruners

        assert {"median", "asha"} <= set(available_pruners())
        ```
    """
    from byop.plugins import available  # plugins load pluggy: only when asked

    return available("pruners")


def create_pruner(
    pruner: str | Pruner, *, metric: Metric | str | None = None, **options: Any
) -> Pruner:
    """A pruner: a registered one created by name, or the object given.

    Args:
        pruner: A registered name (``"median"``, ``"asha"``, ``"optuna.hyperband"``...), or
            a `Pruner` object (returned as it is).
        metric: The metric to judge, for a pruner created by name.
        **options: The registered pruner's own options.

    Raises:
        byop.plugins.UnknownFeatureError: No pruner has that name (the message lists them).
        TypeError: ``pruner`` is neither a name nor a `Pruner`, or options go with an object.

    Example:
        ```python
        from byop.optimization import create_pruner

        pruner = create_pruner("median", metric="loss", warmup_steps=2)
        assert pruner.metric.name == "loss"
        ```
    """
    if isinstance(pruner, str):
        from byop.plugins import get  # plugins load pluggy: only when asked

        factory = get("pruners", pruner).obj
        made: Pruner = factory(metric=_one_metric(metric), **options)
        return made
    if not isinstance(pruner, Pruner):
        raise TypeError(
            f"pruner= takes a registered pruner's name ({', '.join(available_pruners())}) or "
            f"an object with should_stop(trial, step, values) and tell(report); got "
            f"{type(pruner).__name__} {pruner!r:.60}."
        )
    if options:
        raise TypeError(
            f"Options ({', '.join(sorted(options))}) configure a pruner created by name; "
            "configure the pruner object when you create it."
        )
    return pruner
