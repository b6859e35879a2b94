"""`SMACOptimizer`: a SMAC facade behind byop's ask-and-tell interface."""

from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from byop.configspace import is_configuration_space, plain_value, to_configspace
from byop.optimization import (
    Fidelity,
    Metric,
    OptimizerExhaustedError,
    PendingTrials,
    Report,
    Trial,
    as_fidelities,
    as_metrics,
    as_seed,
    is_finite_number,
)
from byop.pipeline import Space
from byop.plugins import import_optional

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from smac.facade.abstract_facade import AbstractFacade
    from smac.runhistory.dataclasses import TrialInfo, TrialValue

INSTALL = "byop[smac]"

FacadeName = Literal[
    "hpo", "multi_fidelity", "hyperband", "random", "blackbox", "algorithm_configuration"
]

_FACADES: dict[str, str] = {
    "hpo": "HyperparameterOptimizationFacade",
    "multi_fidelity": "MultiFidelityFacade",
    "hyperband": "HyperbandFacade",
    "random": "RandomFacade",
    "blackbox": "BlackBoxFacade",
    "algorithm_configuration": "AlgorithmConfigurationFacade",
}


def smac_module(name: str = "smac") -> ModuleType:
    """A module of SMAC, imported on first use, or an error naming what to install."""
    return import_optional(name, install=INSTALL, feature="byop.smac")


class SMACOptimizer:
    """A SMAC facade, asked and told through byop's `Trial` and `Trial.Report`.

    ``ask()`` gives a trial whose ``info`` is SMAC's ``TrialInfo`` and whose ``seed`` and
    ``budget`` are the ``TrialInfo``'s (``trial.budget`` is the fidelity to evaluate at with the
    multi-fidelity facades). ``tell()`` sends SMAC a ``TrialValue``:

    - a success is ``SUCCESS``, with the declared metrics as costs (a metric to maximise is
      negated: SMAC minimises);
    - a failure or a crash is ``CRASHED``, or ``MEMORYOUT`` when its exception is a
      ``MemoryError`` and ``TIMEOUT`` when it is a ``TimeoutError`` (byop's limit errors are
      both); its cost is the scenario's ``crash_cost``, unless a failure reported every metric;
    - a pruned trial (stopped early, a `PrunedReport`) is ``SUCCESS`` with the cost of the
      last values it reported (``additional_info["pruned_at_step"]`` says where it stopped),
      or ``CRASHED`` at ``crash_cost`` when it reported none;
    - the wall and CPU times of the report go along.

    Args:
        facade: The SMAC facade to ask and tell (build it with ``target_function=None``).
        metrics: The metrics the objective reports, one per objective of the scenario. By
            default the scenario's objectives, minimised.
        space: byop's `Space` the facade's configuration space came from, if any: the
            configurations then list hyperparameters in its order.
        save: Whether SMAC writes its run history to its output directory after each tell.
        fidelities: The declared fidelity, if any (at most one: SMAC varies one budget).
            Each trial carries SMAC's budget as its value (``trial.fidelities``); with a
            facade that uses no budgets, its maximum.

    Raises:
        ValueError: The metrics do not match the scenario's objectives.

    Example:
        ```python
        from byop.pipeline import searchable
        from byop.smac import SMACOptimizer

        space = searchable("s", space={"x": (-10.0, 10.0)}).space()
        optimizer = SMACOptimizer.create(space=space, seed=1)
        trial = optimizer.ask()
        optimizer.tell(trial.success(cost=trial.config["x"] ** 2))
        optimizer.close()  # removes the temporary output directory
        ```
    """

    class ExhaustedError(OptimizerExhaustedError):
        """SMAC has no configuration left to propose: every one of the space was asked.

        A space with a single configuration (an empty space, whose one configuration is
        ``{}``, or only constants) is exhausted after its first trial.
        """

    PREFIX: ClassVar[str] = "smac"
    """Trials are named ``smac-<config id>``, then ``-i<instance>``, ``-s<seed>`` (when the
    scenario is not deterministic) and ``-b<budget>`` where they apply."""

    def __init__(
        self,
        *,
        facade: AbstractFacade,
        metrics: Metric | str | Iterable[Metric | str] | None = None,
        space: Space | None = None,
        save: bool = True,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
    ) -> None:
        runhistory = smac_module("smac.runhistory")
        self.fidelity: Fidelity | None = _one_fidelity(fidelities)
        self.facade = facade
        scenario = facade.scenario
        objectives = scenario.objectives
        names = [objectives] if isinstance(objectives, str) else list(objectives)
        if metrics is None:
            self.metrics: tuple[Metric, ...] = tuple(Metric(n) for n in names)
        else:
            self.metrics = as_metrics(metrics)
            if len(self.metrics) != len(names):
                raise ValueError(
                    f"{len(self.metrics)} metrics declared but the scenario has "
                    f"{len(names)} objectives {names}: create the Scenario with "
                    "objectives=[one name per metric]."
                )
        self.space = space
        self.save = save
        self._status = runhistory.StatusType
        self._trial_value = runhistory.TrialValue
        self._trial_info = runhistory.TrialInfo
        crash = scenario.crash_cost
        n = len(self.metrics)
        self._crash_cost: float | list[float] = (
            (list(crash) if isinstance(crash, list) else [float(crash)] * n)
            if n > 1
            else float(crash[0] if isinstance(crash, list) else crash)
        )
        self._deterministic = bool(scenario.deterministic)
        self._pending: PendingTrials[TrialInfo] = PendingTrials("SMACOptimizer")
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @classmethod
    def create(
        cls,
        *,
        space: Space | Mapping[str, Any] | ConfigurationSpace,
        seed: int | None = None,
        facade: FacadeName | type[AbstractFacade] | None = None,
        metrics: Metric | str | Iterable[Metric | str] | None = None,
        min_budget: float | None = None,
        max_budget: float | None = None,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
        n_trials: int = 100,
        deterministic: bool = True,
        output_directory: str | os.PathLike[str] | None = None,
        name: str | None = None,
        logging_level: int | Literal[False] = False,
        **scenario_kwargs: Any,
    ) -> SMACOptimizer:
        """Create a scenario and a facade and wrap them: what ``create_optimizer("smac")`` calls.

        Args:
            space: byop's `Space` (or a dictionary written the byop way), converted with
                `byop.configspace.to_configspace`, or a ``ConfigurationSpace`` (copied).
            seed: The scenario's seed; ``None`` draws one.
            facade: ``"hpo"`` (Bayesian optimization with a random forest), ``"multi_fidelity"``
                (the same with Hyperband over budgets), ``"hyperband"``, ``"random"``,
                ``"blackbox"`` (a Gaussian process), ``"algorithm_configuration"``, or a facade
                class. By default ``"multi_fidelity"`` when budgets are given, else ``"hpo"``.
            metrics: The metrics the objective reports; several make a multi-objective
                scenario. Default: ``cost``, minimised.
            min_budget: The smallest budget (fidelity) for the multi-fidelity facades.
            max_budget: The largest budget.
            fidelities: The declared fidelity (at most one): its ``low`` and ``high`` are the
                budgets, and the facade is ``"multi_fidelity"`` by default.
            n_trials: The scenario's trial count, which sizes SMAC's initial design; asking
                more is allowed.
            deterministic: Whether the objective gives the same result for the same
                configuration (then each configuration is evaluated with one seed).
            output_directory: Where SMAC writes (in ``<output_directory>/<name>/<seed>``). By
                default a temporary directory that `close` removes (also when the optimizer
                is garbage collected). Nothing is ever written in the working directory.
            name: The scenario's name; by default SMAC derives one from the setup.
            logging_level: SMAC's logging level; ``False`` (default) leaves logging alone.
            **scenario_kwargs: Passed to ``smac.Scenario`` (e.g. ``crash_cost``,
                ``instances``). Without ``crash_cost``, a metric declared with bounds has its
                worst value as the cost of a failed or crashed trial.

        Raises:
            ValueError: A multi-fidelity facade without both budgets, or an unknown facade.
        """
        smac = smac_module()
        declared = as_metrics(metrics)
        fidelity = _one_fidelity(fidelities)
        if fidelity is not None:
            low, high = fidelity.clip(fidelity.low), fidelity.clip(fidelity.high)
            if (min_budget is not None and min_budget != low) or (
                max_budget is not None and max_budget != high
            ):
                raise ValueError(
                    f"min_budget={min_budget!r}, max_budget={max_budget!r} disagree with the "
                    f"declared fidelity {fidelity.name!r} ({low:g} to {high:g}); declare the "
                    "fidelity only."
                )
            min_budget, max_budget = low, high
        if "crash_cost" not in scenario_kwargs and any(m.bounds for m in declared):
            worst = [math.inf if m.worst is None else m.as_cost(m.worst) for m in declared]
            scenario_kwargs["crash_cost"] = worst[0] if len(worst) == 1 else worst
        if facade is None:
            facade = "multi_fidelity" if min_budget is not None else "hpo"
        facade_cls = _facade_class(smac, facade)
        uses_budgets = facade_cls.__name__ in {"MultiFidelityFacade", "HyperbandFacade"}
        if uses_budgets and (min_budget is None or max_budget is None):
            raise ValueError(
                f"The {facade_cls.__name__} needs min_budget= and max_budget= (the range of "
                "fidelities, e.g. epochs 1 to 27)."
            )
        byop_space: Space | None = None
        if is_configuration_space(space):
            configspace = copy.deepcopy(space)
        else:
            byop_space = Space.from_dict(space)
            configspace = to_configspace(byop_space)
        seed = as_seed(seed)
        if seed is None:
            seed = int.from_bytes(os.urandom(4), "little") >> 1
        temporary = output_directory is None
        if output_directory is None:
            directory = Path(tempfile.mkdtemp(prefix="byop-smac-"))
        else:
            directory = Path(output_directory)
        objectives: str | list[str] = (
            declared[0].name if len(declared) == 1 else [m.name for m in declared]
        )
        scenario = smac.Scenario(
            configspace,
            name=name,
            output_directory=directory,
            deterministic=deterministic,
            objectives=objectives,
            n_trials=n_trials,
            min_budget=min_budget,
            max_budget=max_budget,
            seed=seed,
            **scenario_kwargs,
        )
        try:
            built = facade_cls(scenario, None, overwrite=True, logging_level=logging_level)
        except BaseException:
            if temporary:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        optimizer = cls(
            facade=built,
            metrics=declared,
            space=byop_space,
            save=not temporary,
            fidelities=fidelity,
        )
        if temporary:
            optimizer._finalizer = weakref.finalize(
                optimizer, shutil.rmtree, str(directory), ignore_errors=True
            )
        return optimizer

    # ------------------------------------------------------------------ ask and tell
    def ask(self) -> Trial[TrialInfo]:
        """A new trial from ``facade.ask()``: its config, seed and budget, and the TrialInfo.

        Raises:
            SMACOptimizer.ExhaustedError: SMAC has no new configuration to propose (the space
                has a single configuration, e.g. it is empty, and it was asked already).
        """
        facade = self.facade
        if len(facade.scenario.configspace) == 0 and facade.runhistory.config_ids:
            # SMAC's models cannot fit zero features: its one configuration was had.
            raise SMACOptimizer.ExhaustedError(
                "The space is empty: its one configuration, {}, was asked already."
            )
        exhausted = smac_module("smac.main.exceptions").ConfigurationSpaceExhaustedException
        try:
            info = facade.ask()
        except exhausted as e:
            raise SMACOptimizer.ExhaustedError(
                "SMAC has no configuration left to propose: every configuration of the space "
                "was asked already."
            ) from e
        values = {k: plain_value(v) for k, v in info.config.items()}
        if self.space is not None:
            values = {n: values[n] for n in self.space.names if n in values}
        config_id = self.facade.runhistory.config_ids[info.config]
        name = f"{self.PREFIX}-{config_id}"
        if info.instance is not None:
            name += f"-i{info.instance}"
        if not self._deterministic and info.seed is not None:
            name += f"-s{info.seed}"
        if info.budget is not None:
            name += f"-b{info.budget:g}"
        name = self._pending.add(name, info)
        budget = None if info.budget is None else float(info.budget)
        fidelity = self.fidelity
        if fidelity is None:
            return self._pending.issue(Trial(name, values, info, info.seed, budget))
        if budget is None:  # a facade without budgets: the full fidelity
            budget = fidelity.clip(fidelity.high)
        value = {fidelity.name: budget}
        return self._pending.issue(Trial(name, values, info, info.seed, budget, value))

    def tell(self, report: Report[TrialInfo]) -> None:
        """Tell SMAC the report as a ``TrialValue`` (see the class for the mapping).

        Raises:
            TypeError: ``report`` is not a report.
            UnknownTrialError: The trial was not asked of this optimizer, or was told already.
            KeyError: A success lacks a declared metric (the trial stays pending).
        """
        info = self._pending.get(report)
        value = self._value(report)
        self.facade.tell(info, value, save=self.save)
        self._pending.pop(report)

    def restore(self, reports: Iterable[Report[Any]]) -> None:
        """Tell SMAC the reports of an earlier run, as trials it did not ask for (warm start).

        Each trial's ``TrialInfo`` is rebuilt from its config, seed and budget (and instance,
        when the report still holds SMAC's ``TrialInfo`` or its stored data): reports read
        back from storage work as well as live ones.

        Raises:
            ValueError: A configuration is not valid in the configuration space.
        """
        configspace = self.facade.scenario.configspace
        configuration_cls = type(configspace.get_default_configuration())
        uses_budgets = self.facade.intensifier.uses_budgets
        for report in reports:
            trial = report.trial
            try:
                configuration = configuration_cls(configspace, values=dict(trial.config))
            except (ValueError, KeyError) as e:
                raise ValueError(
                    f"Cannot restore trial {trial.name!r}: its config is not valid in the "
                    f"configuration space: {e}"
                ) from e
            budget = trial.budget
            if budget is None and uses_budgets:
                budget = self.facade.scenario.max_budget
            info = self._trial_info(
                config=configuration,
                instance=_instance_of(trial.info),
                seed=trial.seed,
                budget=budget,
            )
            self.facade.tell(info, self._value(report), save=False)
            self._pending.mark_told(trial.name)
        if self.save:
            self.facade.optimizer.save()

    def close(self) -> None:
        """Remove the temporary output directory, if the optimizer made one."""
        if self._finalizer is not None:
            self._finalizer()

    # ------------------------------------------------------------------ helpers
    @property
    def output_directory(self) -> Path:
        """Where SMAC writes this run (``<output_directory>/<name>/<seed>``)."""
        return Path(self.facade.scenario.output_directory)

    def _value(self, report: Report[Any]) -> TrialValue:
        status = self._status.SUCCESS
        additional: dict[str, Any] = {}
        pruned = isinstance(report, Trial.PrunedReport)
        if isinstance(report, Trial.SuccessReport) or (
            pruned and all(m.name in report.results for m in self.metrics)
        ):
            # A pruned trial is told the cost of its last value, at the step it reached.
            cost = self._costs(report)
            if pruned:
                additional["pruned_at_step"] = report.results.get("step")
        else:
            exc = report.exception
            if isinstance(exc, MemoryError):
                status = self._status.MEMORYOUT
            elif isinstance(exc, TimeoutError):
                status = self._status.TIMEOUT
            else:
                status = self._status.CRASHED
            if isinstance(report, Trial.FailReport) and all(
                is_finite_number(report.results.get(m.name)) for m in self.metrics
            ):
                cost = self._costs(report)
            else:
                cost = self._crash_cost
            if exc is not None:
                additional["error"] = f"{type(exc).__name__}: {exc}"
            if report.traceback is not None:
                additional["traceback"] = report.traceback
        value: TrialValue = self._trial_value(
            cost=cost,
            time=report.time.duration,
            cpu_time=report.cpu_time.duration,
            status=status,
            starttime=report.time.start,
            endtime=report.time.end,
            additional_info=additional,
        )
        return value

    def _costs(self, report: Report[Any]) -> float | list[float]:
        costs = [m.as_cost(report[m.name]) for m in self.metrics]
        return costs[0] if len(costs) == 1 else costs

    def __repr__(self) -> str:
        return (
            f"SMACOptimizer(facade={type(self.facade).__name__}, "
            f"seed={self.facade.scenario.seed}, metrics={[m.name for m in self.metrics]}, "
            f"pending={len(self._pending)})"
        )


def _facade_class(smac: ModuleType, facade: str | type[Any]) -> type[AbstractFacade]:
    if isinstance(facade, type):
        return facade
    try:
        cls: type[AbstractFacade] = getattr(smac, _FACADES[facade])
    except KeyError:
        raise ValueError(
            f"Unknown SMAC facade {facade!r}; use one of {sorted(_FACADES)} or a facade class."
        ) from None
    return cls


def _one_fidelity(
    fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None,
) -> Fidelity | None:
    declared = as_fidelities(fidelities)
    if len(declared) > 1:
        raise ValueError(
            f"SMAC varies one budget, but {len(declared)} fidelities are declared "
            f"({', '.join(f.name for f in declared)}): declare one."
        )
    return declared[0] if declared else None


def _instance_of(info: Any) -> str | None:
    """The instance of SMAC's TrialInfo, live or as stored data."""
    if info is None:
        return None
    if isinstance(info, Mapping):
        data = info.get("data", info)
        instance = data.get("instance") if isinstance(data, Mapping) else None
        return None if instance is None else str(instance)
    instance = getattr(info, "instance", None)
    return None if instance is None else str(instance)
