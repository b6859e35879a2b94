"""`NePSOptimizer`: a NePS algorithm behind byop's ask-and-tell interface."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from attrs import frozen

from byop.neps._space import Confidence, NePSSpace, neps_module, to_neps
from byop.optimization import (
    GENERATORS,
    Fidelity,
    IsolatedRandomState,
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
from byop.serialization import register_type

if TYPE_CHECKING:
    from neps import AskAndTell

PRIOR_ALGORITHMS = frozenset({"pibo", "priorband", "neps_priorband"})
"""The algorithms that search from priors: the space's defaults are their priors."""

MULTI_FIDELITY_ALGORITHMS = frozenset(
    {
        "successive_halving",
        "hyperband",
        "asha",
        "async_hb",
        "priorband",
        "mo_hyperband",
        "moasha",
        "neps_hyperband",
        "neps_priorband",
        "primo",
    }
)
"""The algorithms that ask for trials at lower fidelities (they need a declared `Fidelity`)."""

_GENERATORS: dict[str, tuple[str, ...]] = {"random_search": ("torch",)}
"""The global generators an algorithm draws from, where that is known to be fewer than all:
only those are swapped around its calls (test_random_search_draws_from_torch_only). A swap
of numpy's generator costs about 0.2 ms, as much as random search's whole ``ask``."""

_REFUSED = {
    "ifbo": "it downloads its model's weights when it first runs, so it fails without internet",
}


@frozen
class NePSTrialInfo:
    """What `NePSOptimizer` keeps with each trial (``trial.info``).

    Attributes:
        id: NePS's id of the trial (``"7"``, or ``"7_rung_2"`` with the bracket algorithms,
            whose trials of one configuration at higher fidelities are ``previous_id``'s
            continuations).
        previous_id: The id of the same configuration's trial at the previous rung, if any.
    """

    id: str
    previous_id: str | None = None


register_type(NePSTrialInfo, "byop.neps.NePSTrialInfo")


class NePSOptimizer:
    """A NePS algorithm, asked and told through byop's `Trial` and `Trial.Report`.

    ``ask()`` calls ``AskAndTell.ask()``: the trial's ``config`` holds the space's
    hyperparameters, ``fidelities`` (and ``budget``) the declared fidelity's value to evaluate
    at, ``info`` NePS's trial id (`NePSTrialInfo`). ``tell()`` calls ``AskAndTell.tell``:

    - a success as ``objective_to_minimize``: the declared metric as a cost (a metric to
      maximise is negated, NePS minimises), or the list of them with several metrics;
    - a failure or a crash as NePS's failed evaluation, its exception (with the metrics as
      well, when a failure reported every one); NePS's algorithms leave such a trial out of
      their models and never promote it;
    - with ``cost=``, that result as NePS's evaluation ``cost`` (for ``cost_aware`` search).

    NePS draws from the global random generators (Python's, numpy's, torch's): every call into
    NePS runs inside an `IsolatedRandomState` of the optimizer's seed, so two optimizers with
    one seed ask the same trials and the user's own generators are left alone.

    Args:
        ask_and_tell: NePS's ``AskAndTell`` over the algorithm.
        space: The converted space (`to_neps`).
        metrics: The metrics the objective reports. Default: ``cost``, minimised.
        seed: Seeds the random streams NePS draws from; ``None`` draws a seed.
        cost: The name of a result to tell NePS as the evaluation's cost, if any.

    Example:
        ```python
        from byop.neps import NePSOptimizer
        from byop.pipeline import searchable

        space = searchable("s", space={"x": (-10.0, 10.0)}).space()
        optimizer = NePSOptimizer.create(space=space, seed=1, algorithm="random_search")
        for _ in range(5):
            trial = optimizer.ask()
            optimizer.tell(trial.success(cost=trial.config["x"] ** 2))
        assert len(optimizer.ask_and_tell.trials) == 5
        ```
    """

    PREFIX: ClassVar[str] = "neps"
    """Trials are named ``neps-<NePS's trial id>``."""

    def __init__(
        self,
        *,
        ask_and_tell: AskAndTell | None,
        space: NePSSpace,
        metrics: Metric | str | Iterable[Metric | str] | Mapping[str, Any] | None = None,
        seed: int | None = None,
        cost: str | None = None,
    ) -> None:
        self.ask_and_tell = ask_and_tell
        self.space = space
        self.metrics = as_metrics(metrics)
        self.cost = cost
        self.random_state = IsolatedRandomState(seed)
        self._pending: PendingTrials[str] = PendingTrials("NePSOptimizer")
        self._asked = 0

    @classmethod
    def create(
        cls,
        *,
        space: Space | Mapping[str, Any],
        seed: int | None = None,
        algorithm: str | Callable[..., Any] = "auto",
        metrics: Metric | str | Iterable[Metric | str] | Mapping[str, Any] | None = None,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
        priors: bool | None = None,
        prior_confidence: Confidence = "medium",
        cost: str | None = None,
        **options: Any,
    ) -> NePSOptimizer:
        """Convert the space and create the algorithm: what ``create_optimizer("neps")`` calls.

        Args:
            space: byop's `Space` (or a dictionary written the byop way). Conditions are not
                supported by NePS (an `InvalidSpaceError` says so).
            seed: Seeds the random streams NePS draws from; ``None`` draws a seed.
            algorithm: A function of ``neps.algorithms`` by name (``"bayesian_optimization"``,
                ``"pibo"``, ``"priorband"``, ``"successive_halving"``, ``"hyperband"``,
                ``"asha"``, ``"random_search"``...), or such a function itself. ``"auto"``
                chooses as NePS does: Bayesian optimization, πBO with priors, Hyperband with a
                fidelity, PriorBand with both. ``"ifbo"`` is refused: it downloads its model.
            metrics: The metrics the objective reports; several are NePS's multi-objective
                ``objective_to_minimize`` list (for the algorithms that take one).
            fidelities: The fidelity the multi-fidelity algorithms vary (one; NePS's
                ``is_fidelity``). The other algorithms evaluate every trial at its ``high``.
            priors: Whether each hyperparameter's default is its NePS prior. By default, only
                for the algorithms that search from priors (πBO, PriorBand).
            prior_confidence: NePS's confidence in the priors: ``"low"``, ``"medium"`` or
                ``"high"``.
            cost: The name of a result to tell NePS as each evaluation's cost (what
                ``cost_aware=True`` weighs); a success must then report it.
            **options: Passed to the algorithm's function, e.g. ``eta=3``,
                ``initial_design_size=10``.

        Raises:
            InvalidSpaceError: See `to_neps`.
            ValueError: An unknown or refused algorithm, or a multi-fidelity algorithm without
                a declared fidelity.
        """
        if not (isinstance(algorithm, str) or callable(algorithm)):
            raise TypeError(
                "algorithm is the name of a NePS algorithm (e.g. 'bayesian_optimization') or "
                f"one of neps.algorithms' functions, got {type(algorithm).__name__} {algorithm!r}."
            )
        seed = as_seed(seed)
        neps = neps_module()
        declared = as_fidelities(fidelities)
        name = algorithm if isinstance(algorithm, str) else getattr(algorithm, "__name__", "")
        if name in _REFUSED:
            raise ValueError(f"byop does not offer NePS's {name!r}: {_REFUSED[name]}.")
        if isinstance(algorithm, str) and algorithm != "auto":
            choices = sorted(set(neps.optimizers.algorithms.PredefinedOptimizers) - set(_REFUSED))
            if algorithm not in choices:
                raise ValueError(
                    f"NePS has no algorithm {algorithm!r}; use one of {choices}, or 'auto'."
                )
        if name in MULTI_FIDELITY_ALGORITHMS and not declared:
            raise ValueError(
                f"NePS's {name!r} evaluates trials at several fidelities: declare the fidelity, "
                "e.g. fidelities=Fidelity('epochs', 1, 27, integer=True)."
            )
        use_priors = name in PRIOR_ALGORITHMS if priors is None else priors
        converted = to_neps(
            space, fidelities=declared, priors=use_priors, prior_confidence=prior_confidence
        )
        if algorithm == "auto":  # a choice by the space's kind: it draws nothing
            algorithm = neps.optimizers.algorithms.determine_optimizer_automatically(
                converted.search_space
            )
            name = algorithm
        own = isinstance(algorithm, str) or algorithm is getattr(neps.algorithms, name, None)
        generators = _GENERATORS.get(name, GENERATORS) if own else GENERATORS
        random_state = IsolatedRandomState(seed, generators=generators)
        if not converted.search_space.searchables:
            # Nothing to search (NePS's algorithms fail on such a space): its one configuration,
            # at the full fidelity.
            optimizer = cls(ask_and_tell=None, space=converted, metrics=metrics, seed=seed)
            optimizer.random_state = random_state
            return optimizer
        with random_state:
            function = (
                getattr(neps.algorithms, algorithm) if isinstance(algorithm, str) else algorithm
            )
            name = getattr(function, "__name__", name)
            if declared and name not in MULTI_FIDELITY_ALGORITHMS:
                _full_fidelity(function, options)
            try:
                algorithm_object = function(converted.search_space, **options)
            except TypeError as e:
                accepted = _options_of(function)
                raise TypeError(
                    f"NePS's {name!r} does not take the options {sorted(options)}: {e}. "
                    f"It takes {accepted}."
                ) from e
            ask_and_tell = neps.AskAndTell(algorithm_object)
        optimizer = cls(
            ask_and_tell=ask_and_tell,
            space=converted,
            metrics=metrics,
            seed=random_state.seed,
            cost=cost,
        )
        optimizer.random_state = random_state
        optimizer.algorithm = name
        return optimizer

    algorithm: str = ""
    """The name of NePS's algorithm, when `create` made it."""

    # ------------------------------------------------------------------ ask and tell
    def ask(self) -> Trial[NePSTrialInfo]:
        """A new trial from ``AskAndTell.ask()``, with its fidelity when one is declared.

        Raises:
            OptimizerExhaustedError: The space has nothing to search and its one configuration
                was asked already.
        """
        self._asked += 1
        if self.ask_and_tell is None:
            if self._asked > 1:
                raise OptimizerExhaustedError(
                    "The space has nothing to search: its one configuration, "
                    f"{self.space.config({})}, was asked already."
                )
            name = self._pending.add(f"{self.PREFIX}-1", "1")
            fidelity = self.space.fidelity
            full: dict[str, float] = {}
            if fidelity is not None:
                high = fidelity.high
                full[fidelity.name] = int(high) if fidelity.integer else float(high)
            trial = Trial(name, self.space.config({}), NePSTrialInfo("1"), fidelities=full)
            return self._pending.issue(trial)
        try:
            with self.random_state:
                neps_trial = self.ask_and_tell.ask()
        except RuntimeError as e:
            if self._pending and "Sizes of tensors must match" in str(e):
                raise RuntimeError(
                    "NePS's Bayesian optimization cannot ask while other trials are pending in "
                    "a space with both categorical and numerical hyperparameters (a NePS bug, "
                    f"{len(self._pending)} pending here). Run one trial at a time (n_workers=1), "
                    "or use another algorithm."
                ) from e
            raise
        metadata = neps_trial.metadata
        trial_id = str(metadata.id)
        config = self.space.config(neps_trial.config)
        fidelities: dict[str, float] = {}
        fidelity = self.space.fidelity
        if fidelity is not None:
            value = neps_trial.config[fidelity.name]
            fidelities[fidelity.name] = int(value) if fidelity.integer else float(value)
        previous = metadata.previous_trial_id
        info = NePSTrialInfo(trial_id, None if previous is None else str(previous))
        name = self._pending.add(f"{self.PREFIX}-{trial_id}", trial_id)
        return self._pending.issue(Trial(name, config, info, fidelities=fidelities))

    def tell(self, report: Report[NePSTrialInfo]) -> None:
        """Tell NePS the report (see the class for how each kind is told).

        Raises:
            UnknownTrialError: The trial was not asked of this optimizer, or was told already.
            KeyError: A success lacks a declared metric, or the ``cost`` result (the trial
                stays pending).
        """
        trial_id = self._pending.get(report)
        result = self._result(report)
        if self.ask_and_tell is None:
            self._pending.pop(report)
            return
        # No random streams swapped here: AskAndTell.tell records the result and draws nothing
        # (the algorithm runs only on ask), and the swap is most of byop's cost per trial.
        self.ask_and_tell.tell(
            trial_id,
            result,
            time_end=report.time.end,
            evaluation_duration=report.time.duration,
            traceback_str=report.traceback,
        )
        self._pending.pop(report)

    def restore(self, reports: Iterable[Report[Any]]) -> None:
        """Tell NePS the reports of an earlier run, as trials it did not ask for.

        Each goes through ``AskAndTell.tell_custom`` under its NePS id (from its
        `NePSTrialInfo`, live or read back from storage), so that the bracket algorithms see
        each configuration's rungs as they were; a report without one gets a new id from the
        algorithm's ``import_trials``.

        Raises:
            ValueError: A configuration is not in the space, lacks the fidelity, or is at a
                fidelity the algorithm has no rung for.
        """
        for report in reports:
            trial = report.trial
            try:
                config = self.space.neps_config(trial.config, trial.fidelities)
            except (ValueError, KeyError) as e:
                raise ValueError(f"Cannot restore trial {trial.name!r} into NePS: {e}") from e
            result = self._result(report, strict=False)
            if self.ask_and_tell is None:
                self._pending.mark_told(trial.name)
                self._asked = max(self._asked, 1)
                continue
            trial_id, previous = _stored_id(trial.info)
            with self.random_state:
                if trial_id is None or trial_id in self.ask_and_tell.trials:
                    trial_id = self._import_id(trial.name, config, result)
                    previous = None
                self.ask_and_tell.tell_custom(
                    config_id=trial_id,
                    config=config,
                    result=result,
                    time_started=report.time.start,
                    time_end=report.time.end,
                    evaluation_duration=report.time.duration,
                    previous_trial_id=previous,
                    traceback_str=report.traceback,
                )
            self._pending.mark_told(trial.name)

    # ------------------------------------------------------------------ helpers
    def _result(self, report: Report[Any], *, strict: bool = True) -> dict[str, Any]:
        results = report.results
        reported = all(m.name in results for m in self.metrics)
        result: dict[str, Any] = {}
        if isinstance(report, Trial.SuccessReport):
            if strict or reported:
                costs = [m.as_cost(report[m.name]) for m in self.metrics]
                result["objective_to_minimize"] = costs[0] if len(costs) == 1 else costs
            else:
                result["exception"] = KeyError(
                    f"the report lacks the metrics {[m.name for m in self.metrics]}"
                )
        else:
            exc = report.exception
            if not isinstance(exc, Exception):
                exc = RuntimeError(f"the trial {report.status.value}")
            result["exception"] = exc
            if isinstance(report, Trial.FailReport) and all(
                is_finite_number(results.get(m.name)) for m in self.metrics
            ):
                costs = [m.as_cost(results[m.name]) for m in self.metrics]
                result["objective_to_minimize"] = costs[0] if len(costs) == 1 else costs
        if self.cost is not None:
            if self.cost in results:
                result["cost"] = float(results[self.cost])
            elif strict and isinstance(report, Trial.SuccessReport):
                report[self.cost]  # raises the KeyError naming it
        return result

    def _import_id(self, name: str, config: dict[str, Any], result: dict[str, Any]) -> str:
        ask_and_tell = self.ask_and_tell
        assert ask_and_tell is not None  # restore() returns early without an algorithm
        importer = getattr(ask_and_tell.optimizer, "import_trials", None)
        if importer is not None:
            imported = importer([(config, result)], ask_and_tell.trials)
            if imported and imported[0].id not in ask_and_tell.trials:
                return str(imported[0].id)
            if not imported:
                raise ValueError(
                    f"Cannot restore trial {name!r}: NePS's algorithm does not take it (for a "
                    "bracket algorithm, its fidelity must be one of the rungs')."
                )
        numbers = [int(i) for i in ask_and_tell.trials if i.split("_")[0].isdigit()]
        return str(max(numbers, default=0) + 1)

    def __repr__(self) -> str:
        algorithm = self.algorithm or type(getattr(self.ask_and_tell, "optimizer", None)).__name__
        return (
            f"NePSOptimizer(algorithm={algorithm}, seed={self.random_state.seed}, "
            f"metrics={[m.name for m in self.metrics]}, pending={len(self._pending)})"
        )


def _options_of(function: Callable[..., Any]) -> list[str]:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return []
    return [n for n in parameters if n != "pipeline_space"]


def _full_fidelity(function: Callable[..., Any], options: dict[str, Any]) -> None:
    """Make an algorithm without multi-fidelity evaluate every trial at the full fidelity."""
    try:
        parameter = inspect.signature(function).parameters.get("ignore_fidelity")
    except (TypeError, ValueError):
        return
    if parameter is not None:
        # True means "sample it like a hyperparameter" to some (random search): ask for the top.
        full = "highest_fidelity" if "highest_fidelity" in str(parameter.annotation) else True
        options.setdefault("ignore_fidelity", full)


def _stored_id(info: Any) -> tuple[str | None, str | None]:
    """NePS's id (and previous id) kept with a trial, live or as stored data."""
    if isinstance(info, NePSTrialInfo):
        return info.id, info.previous_id
    if isinstance(info, Mapping) and isinstance(info.get("id"), str):
        previous = info.get("previous_id")
        return info["id"], None if previous is None else str(previous)
    return None, None
