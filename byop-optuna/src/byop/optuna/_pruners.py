"""Optuna's pruners for any optimizer: each judges byop's progress reports in a study of its own.

`OptunaPruner` wraps an ``optuna.pruners`` object; the plugin registers Optuna's pruners under
``optuna.<name>`` (``"optuna.median"``, ``"optuna.hyperband"``...), so that
``optimize(..., pruner="optuna.hyperband")`` works with RandomSearch, SMAC or any optimizer.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from byop.optimization import Metric, Report, Trial, as_metrics
from byop.optuna._parser import optuna_module

PRUNERS: dict[str, str] = {
    "optuna.median": "MedianPruner",
    "optuna.percentile": "PercentilePruner",
    "optuna.successive_halving": "SuccessiveHalvingPruner",
    "optuna.hyperband": "HyperbandPruner",
    "optuna.threshold": "ThresholdPruner",
    "optuna.patient": "PatientPruner",
    "optuna.wilcoxon": "WilcoxonPruner",
}
"""byop's name of each of Optuna's pruners, and its class in ``optuna.pruners``."""


class OptunaPruner:
    """An Optuna pruner judging byop trials, whatever optimizer proposed them.

    Each byop trial that reports progress gets a trial in a private in-memory study (with the
    metric's direction); its values are reported there at their steps (whole numbers), and the
    Optuna pruner's ``should_prune()`` answers. Final reports complete those trials, so rules
    that compare with finished trials (the median's) see them.

    Args:
        pruner: An ``optuna.pruners`` object, e.g. ``optuna.pruners.MedianPruner()``.
        metric: The metric to judge (by default ``cost``, minimised).

    Example:
        ```python
        import optuna
        from byop.optimization import Trial
        from byop.optuna import OptunaPruner

        pruner = OptunaPruner(optuna.pruners.ThresholdPruner(upper=1.0))
        assert pruner.should_stop(Trial(name="t", config={}), 1, {"cost": 2.0})
        ```
    """

    def __init__(self, pruner: Any, metric: Metric | str | None = None) -> None:
        optuna = optuna_module()
        if not isinstance(pruner, optuna.pruners.BasePruner):
            raise TypeError(
                f"OptunaPruner wraps an optuna.pruners object (optuna.pruners.MedianPruner()...),"
                f" got {type(pruner).__name__}."
            )
        self.pruner = pruner
        self.metric = as_metrics(metric)[0]
        direction = "minimize" if self.metric.minimize else "maximize"
        verbosity = optuna.logging.get_verbosity()  # no "A new study created" line
        optuna.logging.set_verbosity(max(verbosity, optuna.logging.WARNING))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # notes on samplers and experimental APIs
                self.study = optuna.create_study(
                    study_name="byop-pruner",  # Hyperband's brackets hash it: same name, same run
                    direction=direction,
                    pruner=pruner,
                    sampler=optuna.samplers.RandomSampler(seed=0),
                )
        finally:
            optuna.logging.set_verbosity(verbosity)
        self._states = optuna.trial.TrialState
        self._trials: dict[str, Any] = {}

    def should_stop(self, trial: Trial[Any], step: float, values: Mapping[str, Any]) -> bool:
        """Report the value to the trial's study twin at ``step``; Optuna's answer."""
        name = self.metric.name
        if name not in values:
            have = ", ".join(repr(k) for k in values) or "no values"
            raise KeyError(
                f"Trial {trial.name!r} reported progress with {have}, but the pruner judges "
                f"{name!r}: report it, as trial.report_progress(step, {name}=...)."
            )
        if float(step) != int(step):
            raise TypeError(
                f"Optuna's pruners take whole steps; trial {trial.name!r} reported step {step}."
            )
        twin = self._trials.get(trial.name)
        if twin is None:
            twin = self._trials[trial.name] = self.study.ask()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a step reported twice is ignored
            twin.report(float(values[name]), int(step))
        return bool(twin.should_prune())

    def tell(self, report: Report[Any]) -> None:
        """Finish the trial's twin: complete with its value, pruned, or failed."""
        twin = self._trials.pop(report.trial.name, None)
        if twin is None:
            return
        name = self.metric.name
        if isinstance(report, Trial.SuccessReport) and name in report.results:
            self.study.tell(twin, values=float(report.results[name]))
        elif isinstance(report, Trial.PrunedReport):
            self.study.tell(twin, state=self._states.PRUNED)
        else:
            self.study.tell(twin, state=self._states.FAIL)

    def __repr__(self) -> str:
        return f"OptunaPruner({type(self.pruner).__name__}, metric={self.metric.name!r})"


def factory(class_name: str) -> Callable[..., OptunaPruner]:
    """What ``create_pruner("optuna.<name>", metric=..., **options)`` calls."""

    def make(*, metric: Metric | str | None = None, **options: Any) -> OptunaPruner:
        pruner_class = getattr(optuna_module().pruners, class_name)
        return OptunaPruner(pruner_class(**options), metric=metric)

    make.__name__ = make.__qualname__ = f"optuna_{class_name}"
    return make
