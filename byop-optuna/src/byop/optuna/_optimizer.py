"""`OptunaOptimizer`: an Optuna study behind byop's ask-and-tell interface."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from attrs import field, frozen

from byop.optimization import (
    Fidelity,
    Metric,
    PendingTrials,
    Report,
    Trial,
    as_fidelities,
    as_metrics,
    as_seed,
    is_finite_number,
)
from byop.optuna._parser import optuna_module, to_optuna
from byop.pipeline import (
    Categorical,
    Condition,
    Constant,
    Float,
    Hyperparameter,
    Integer,
    InvalidSpaceError,
    NumpySampler,
    Space,
)
from byop.serialization import register_type

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution

Direction = Literal["minimize", "maximize"]


@frozen
class OptunaTrialInfo:
    """What `OptunaOptimizer` keeps with each trial (``trial.info``).

    The live ``optuna.Trial`` stays with the optimizer (it holds the whole study); the info
    holds what identifies the trial and travels well (pickle, JSON).

    Attributes:
        number: The trial's number in the study.
        params: Every value Optuna sampled (with byop's space: the active hyperparameters,
            exactly `Trial.config`).
    """

    number: int
    params: dict[str, Any] = field(factory=dict)


register_type(OptunaTrialInfo, "byop.optuna.OptunaTrialInfo")


class OptunaOptimizer:
    """An Optuna study, asked and told through byop's `Trial` and `Trial.Report`.

    ``ask()`` calls ``study.ask(distributions)``; ``tell()`` tells a success as ``COMPLETE``
    with the value of each declared metric (in order), and a failure or a crash as ``FAIL``.
    Several metrics make a multi-objective study.

    Conditions and forbidden combinations: each trial is built define-by-run, walking byop's
    space in dependency order (a condition's parent before its child) and suggesting only the
    hyperparameters whose conditions hold, with their log scale; so Optuna samples, records
    and learns from exactly the active hyperparameters, and ``trial.config`` holds exactly
    them (nested choices included). A configuration with a forbidden combination is told to the
    study as ``FAIL`` and another is asked for, so the objective never sees it. (With a
    dictionary of Optuna distributions, every one is sampled on every trial.)

    Args:
        study: The study to ask and tell.
        space: byop's `Space` (or a dictionary written the byop way), or a dictionary of Optuna
            distributions used as it is.
        metrics: The metrics the objective reports, one per direction of the study. By
            default ``cost``, in the study's direction.
        max_forbidden_retries: How many forbidden configurations in a row `ask` skips before
            deciding that the forbidden clauses exclude everything. A sampler that learns
            nothing from failed trials (TPE) may keep proposing a forbidden one: after every
            `FORBIDDEN_FALLBACK` in a row, a configuration drawn at random from the allowed
            ones is enqueued for the study instead.
        fidelities: The declared fidelities: every trial is evaluated at their maximum
            (``trial.fidelities``; ``trial.budget`` for a single one).

    Raises:
        ValueError: ``metrics`` disagree with the study's directions.

    Example:
        ```python
        from byop.optuna import OptunaOptimizer
        from byop.pipeline import searchable

        space = searchable("s", space={"x": (-10.0, 10.0)}).space()
        optimizer = OptunaOptimizer.create(space=space, seed=1)
        for _ in range(5):
            trial = optimizer.ask()
            optimizer.tell(trial.success(cost=trial.config["x"] ** 2))
        assert len(optimizer.study.trials) == 5
        ```
    """

    PREFIX: ClassVar[str] = "optuna"
    """Trials are named ``optuna-<number in the study>``."""

    FORBIDDEN_FALLBACK: ClassVar[int] = 10
    """Forbidden proposals in a row after which an allowed random configuration is enqueued."""

    def __init__(
        self,
        *,
        study: optuna.Study,
        space: Space | Mapping[str, Any],
        metrics: Metric | str | Iterable[Metric | str] | None = None,
        max_forbidden_retries: int = 100,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
    ) -> None:
        optuna_mod = optuna_module()
        self.fidelities = as_fidelities(fidelities)
        self._at_max = {f.name: f.clip(f.high) for f in self.fidelities}
        self.study = study
        self._plan: tuple[tuple[Hyperparameter, tuple[Condition, ...]], ...] = ()
        if isinstance(space, Mapping) and _is_distribution_dict(space, optuna_mod):
            self.space: Space | None = None
            self.distributions: dict[str, BaseDistribution] = dict(space)
        else:
            self.space = Space.from_dict(space)
            self.distributions = to_optuna(self.space)
            self._plan = tuple(
                (hp, self.space.conditions_of(hp.name)) for hp in self.space.in_dependency_order()
            )
        minimize = [d == optuna_mod.study.StudyDirection.MINIMIZE for d in study.directions]
        if metrics is None:
            if len(minimize) != 1:
                raise ValueError(
                    f"The study has {len(minimize)} directions: declare one metric for each, "
                    "e.g. metrics=[Metric('loss'), Metric('accuracy', minimize=False)]."
                )
            self.metrics: tuple[Metric, ...] = (Metric("cost", minimize=minimize[0]),)
        else:
            self.metrics = as_metrics(metrics)
            declared = [m.minimize for m in self.metrics]
            if declared != minimize:
                raise ValueError(
                    f"The metrics {[_describe(m) for m in self.metrics]} do not match the "
                    f"study's directions {[d.name.lower() for d in study.directions]}; create "
                    "the study with one direction per metric, in the same order."
                )
        self.max_forbidden_retries = max_forbidden_retries
        self._complete = optuna_mod.trial.TrialState.COMPLETE
        self._fail = optuna_mod.trial.TrialState.FAIL
        self._pruned = optuna_mod.trial.TrialState.PRUNED
        self._prunes = not isinstance(study.pruner, optuna_mod.pruners.NopPruner)
        self._pending: PendingTrials[optuna.Trial] = PendingTrials("OptunaOptimizer")

    @classmethod
    def create(
        cls,
        *,
        space: Space | Mapping[str, Any],
        seed: int | None = None,
        sampler: Any = None,
        metrics: Metric | str | Iterable[Metric | str] | None = None,
        direction: Direction | None = None,
        directions: Sequence[Direction] | None = None,
        study_name: str | None = None,
        storage: Any = None,
        max_forbidden_retries: int = 100,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
    ) -> OptunaOptimizer:
        """Create a study and wrap it: what ``create_optimizer("optuna", ...)`` calls.

        Args:
            space: byop's `Space` (or a dictionary written the byop way), or a dictionary of
                Optuna distributions.
            seed: Seeds the sampler when byop creates it (the default, and a sampler class).
            sampler: An Optuna sampler instance (used as it is), a sampler class (created with
                ``seed=seed``), or ``None`` for ``TPESampler(seed=seed)``.
            metrics: The metrics the objective reports; each gives a direction. Default:
                ``cost``, minimised.
            direction: Instead of ``metrics``, the direction of the one metric ``cost``.
            directions: With ``metrics``, checked against them; without, not enough (a
                multi-objective study needs the metrics' names).
            study_name: The study's name (for a persistent ``storage``).
            storage: Optuna storage, e.g. ``"sqlite:///optuna.db"``; in memory by default.
            max_forbidden_retries: See `OptunaOptimizer`.
            fidelities: See `OptunaOptimizer`: trials are evaluated at their maximum.

        Raises:
            ValueError: The directions and the metrics disagree, or several directions are
                given without naming the metrics.
        """
        seed = as_seed(seed)
        optuna_mod = optuna_module()
        declared = None if metrics is None else as_metrics(metrics)
        wanted: list[str] | None = None
        if directions is not None:
            wanted = list(directions)
        elif direction is not None:
            wanted = [direction]
        if declared is None:
            if wanted is not None and len(wanted) != 1:
                raise ValueError(
                    f"{len(wanted)} directions need as many named metrics: pass metrics=[...] "
                    "instead, e.g. [Metric('loss'), Metric('accuracy', minimize=False)]."
                )
            minimize = wanted is None or wanted[0] == "minimize"
            declared = (Metric("cost", minimize=minimize),)
        implied = ["minimize" if m.minimize else "maximize" for m in declared]
        if wanted is not None and wanted != implied:
            raise ValueError(
                f"direction(s) {wanted} disagree with the metrics "
                f"{[_describe(m) for m in declared]}; declare the metrics only."
            )
        if sampler is None:
            sampler = optuna_mod.samplers.TPESampler(seed=seed)
        elif isinstance(sampler, type):
            sampler = sampler(seed=seed)
        # Optuna announces every new study at INFO; byop makes one per run, so keep it quiet
        # (the user's own verbosity setting is restored right after).
        verbosity = optuna_mod.logging.get_verbosity()
        optuna_mod.logging.set_verbosity(max(verbosity, optuna_mod.logging.WARNING))
        try:
            study = optuna_mod.create_study(
                sampler=sampler, directions=implied, study_name=study_name, storage=storage
            )
        finally:
            optuna_mod.logging.set_verbosity(verbosity)
        return cls(
            study=study,
            space=space,
            metrics=declared,
            max_forbidden_retries=max_forbidden_retries,
            fidelities=fidelities,
        )

    # ------------------------------------------------------------------ ask and tell
    def ask(self) -> Trial[OptunaTrialInfo]:
        """A new trial from ``study.ask(distributions)``, with only its active hyperparameters.

        Raises:
            InvalidSpaceError: ``max_forbidden_retries`` configurations in a row were forbidden.
        """
        study = self.study
        space = self.space
        for attempt in range(self.max_forbidden_retries):
            if space is not None and attempt and attempt % self.FORBIDDEN_FALLBACK == 0:
                allowed = NumpySampler().sample(space, seed=len(study.trials))
                study.enqueue_trial(allowed, skip_if_exists=False)
            if space is None:
                optuna_trial = study.ask(self.distributions)
                config = dict(optuna_trial.params)
                break
            optuna_trial = study.ask()
            config = self._suggest(optuna_trial)
            if not space.forbidden or not space.is_forbidden(config):
                break
            study.tell(optuna_trial, state=self._fail)  # never shown to the objective
        else:
            raise InvalidSpaceError(
                f"Optuna proposed {self.max_forbidden_retries} forbidden configurations in a "
                "row; the space's forbidden clauses may exclude all of it."
            )
        number = optuna_trial.number
        name = self._pending.add(f"{self.PREFIX}-{number}", optuna_trial)
        info = OptunaTrialInfo(number, dict(optuna_trial.params))
        if self._at_max:
            return self._pending.issue(Trial(name, config, info, fidelities=dict(self._at_max)))
        return self._pending.issue(Trial(name, config, info))

    def _suggest(self, optuna_trial: optuna.Trial) -> dict[str, Any]:
        """Suggest the active hyperparameters, parents first (define-by-run)."""
        config: dict[str, Any] = {}
        for hp, conditions in self._plan:
            if all(c.holds(config) for c in conditions):
                config[hp.name] = _suggest_one(optuna_trial, hp)
        return config

    def tell(self, report: Report[OptunaTrialInfo]) -> None:
        """Tell the study: success as ``COMPLETE`` with each metric's value, else ``FAIL``.

        A success whose metric value is not a finite number is told as ``FAIL``. A
        `PrunedReport` is told as ``PRUNED``, with its last value as the trial's intermediate
        value at its step (Optuna takes that as the pruned trial's value).

        Raises:
            TypeError: ``report`` is not a report.
            UnknownTrialError: The trial was not asked of this optimizer, or was told already.
            KeyError: A success lacks a declared metric (the trial stays pending).
        """
        optuna_trial = self._pending.get(report)
        if isinstance(report, Trial.SuccessReport):
            values = [report[m.name] for m in self.metrics]
            if all(is_finite_number(v) for v in values):
                floats = [float(v) for v in values]
                self.study.tell(optuna_trial, values=floats, state=self._complete)
            else:  # NaN, infinity, a string: the study takes none of them
                self.study.tell(optuna_trial, state=self._fail)
        elif isinstance(report, Trial.PrunedReport):
            last = self._last_value(report)
            if last is not None:
                _report(optuna_trial, *last)
            self.study.tell(optuna_trial, state=self._pruned)
        else:
            self.study.tell(optuna_trial, state=self._fail)
        self._pending.pop(report)

    def restore(self, reports: Iterable[Report[Any]]) -> None:
        """Add the reports of an earlier run to the study (``study.add_trial``).

        Successes are added as ``COMPLETE`` with their metrics (``FAIL`` when one is
        missing or not a finite number), pruned trials as ``PRUNED`` with their last value,
        failures and crashes as ``FAIL``. Each trial's sampled values come from its
        `OptunaTrialInfo`, else from its config; values of hyperparameters not in the space are
        left out. The byop name is kept as the trial's user attribute ``byop_name``.

        Raises:
            ValueError: A configuration does not fit the space's distributions.
        """
        optuna_mod = optuna_module()
        for report in reports:
            trial = report.trial
            info = trial.info
            source = info.params if isinstance(info, OptunaTrialInfo) else trial.config
            params = {k: v for k, v in source.items() if k in self.distributions}
            distributions = {k: self.distributions[k] for k in params}
            values = None
            state = self._fail
            intermediate = None
            if isinstance(report, Trial.SuccessReport) and all(
                is_finite_number(report.results.get(m.name)) for m in self.metrics
            ):
                values = [float(report.results[m.name]) for m in self.metrics]
                state = self._complete
            elif isinstance(report, Trial.PrunedReport):
                state = self._pruned
                last = self._last_value(report)
                intermediate = None if last is None else {last[1]: last[0]}
            try:
                frozen_trial = optuna_mod.trial.create_trial(
                    state=state,
                    values=values,
                    intermediate_values=intermediate,
                    params=params,
                    distributions=distributions,
                    user_attrs={"byop_name": trial.name},
                )
            except ValueError as e:
                raise ValueError(f"Cannot restore trial {trial.name!r} into the study: {e}") from e
            self.study.add_trial(frozen_trial)
            self._pending.mark_told(trial.name)

    # ------------------------------------------------------------------ early stopping
    def should_stop(self, trial: Trial[Any], step: float, values: Mapping[str, Any]) -> bool:
        """The study's own pruner's word on a running trial (``trial.report_progress``).

        The first metric's value is reported to the Optuna trial at ``step`` (a whole number),
        and ``should_prune()`` answers. A study without a pruner (``NopPruner``), several
        metrics, a fractional step or a missing value: never stops (a byop pruner still may).
        """
        if not self._prunes or len(self.metrics) != 1 or trial.name not in self._pending:
            return False
        name = self.metrics[0].name
        if name not in values or float(step) != int(step):
            return False
        optuna_trial = self._pending.named(trial.name)
        _report(optuna_trial, float(values[name]), int(step))
        return bool(optuna_trial.should_prune())

    def _last_value(self, report: Report[Any]) -> tuple[float, int] | None:
        """A pruned trial's last value of the (one) metric and its step, if Optuna takes it."""
        step = report.step if isinstance(report, Trial.PrunedReport) else None
        name = self.metrics[0].name
        if len(self.metrics) != 1 or step is None or name not in report.results:
            return None
        if float(step) != int(step):
            return None
        return float(report.results[name]), int(step)

    # ------------------------------------------------------------------ helpers
    def __repr__(self) -> str:
        return (
            f"OptunaOptimizer(study={self.study.study_name!r}, "
            f"sampler={type(self.study.sampler).__name__}, "
            f"metrics={[_describe(m) for m in self.metrics]}, pending={len(self._pending)})"
        )


def _report(optuna_trial: optuna.Trial, value: float, step: int) -> None:
    """``optuna_trial.report``, quietly when that step was reported already."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna_trial.report(value, step)


def _suggest_one(optuna_trial: optuna.Trial, hp: Hyperparameter) -> Any:
    if isinstance(hp, Float):
        return optuna_trial.suggest_float(hp.name, hp.lower, hp.upper, log=hp.log)
    if isinstance(hp, Integer):
        return optuna_trial.suggest_int(hp.name, hp.lower, hp.upper, log=hp.log)
    if isinstance(hp, Categorical):
        return optuna_trial.suggest_categorical(hp.name, list(hp.choices))
    assert isinstance(hp, Constant)
    return optuna_trial.suggest_categorical(hp.name, [hp.value])


def _describe(metric: Metric) -> str:
    return f"{metric.name} ({'minimize' if metric.minimize else 'maximize'})"


def _is_distribution_dict(space: Mapping[str, Any], optuna_mod: Any) -> bool:
    base = optuna_mod.distributions.BaseDistribution
    return bool(space) and all(isinstance(v, base) for v in space.values())
