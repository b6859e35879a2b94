"""`HEBOOptimizer`: HEBO behind byop's ask-and-tell interface."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from attrs import frozen

from byop.hebo._space import HEBOSpace, hebo_module, to_hebo
from byop.optimization import (
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


@frozen
class HEBOTrialInfo:
    """What `HEBOOptimizer` keeps with each trial (``trial.info``).

    Attributes:
        number: The trial's number: the how-manieth suggestion of HEBO it is, from 1.
    """

    number: int


register_type(HEBOTrialInfo, "byop.hebo.HEBOTrialInfo")


class HEBOOptimizer:
    """HEBO, asked and told through byop's `Trial` and `Trial.Report`.

    ``ask()`` serves HEBO's ``suggest(n)`` batches one trial at a time: a batch is asked for
    when the last one is used up, never losing or repeating a suggestion; while trials are
    pending, the batch is at least one larger than their number and a suggestion equal to a
    pending trial's configuration is dropped. ``tell()`` calls ``observe`` with the trial's
    costs, shaped ``(1, n_objectives)``:

    - a success: each declared metric as a cost (a metric to maximise is negated; HEBO
      minimises);
    - a failure or a crash, or a success with a non-finite value (HEBO would drop it and could
      suggest the same configuration again): each metric's ``worst`` bound when it has
      ``bounds``, else the worst value HEBO has been told so far, else (nothing told yet) it is
      told with the first success. A failure that reported every metric is told its metrics.

    HEBO draws from numpy's and torch's global generators: every call into HEBO runs inside an
    `IsolatedRandomState` of the optimizer's seed (which also seeds HEBO's Sobol design), so
    two optimizers with one seed ask the same trials and the user's own generators are left
    alone.

    Args:
        hebo: HEBO's optimizer: ``HEBO`` (one objective) or ``GeneralBO`` (several).
        space: The converted space (`to_hebo`).
        metrics: The metrics the objective reports. Default: ``cost``, minimised.
        seed: Seeds the random streams HEBO draws from; ``None`` draws a seed.
        batch_size: How many suggestions to ask HEBO for at once.

    Example:
        ```python
        from byop.hebo import HEBOOptimizer
        from byop.pipeline import searchable

        space = searchable("s", space={"x": (-10.0, 10.0)}).space()
        optimizer = HEBOOptimizer.create(space=space, seed=1)
        for _ in range(3):
            trial = optimizer.ask()
            optimizer.tell(trial.success(cost=trial.config["x"] ** 2))
        assert len(optimizer.hebo.y) == 3
        ```
    """

    PREFIX: ClassVar[str] = "hebo"
    """Trials are named ``hebo-<number>``."""

    def __init__(
        self,
        *,
        hebo: Any,
        space: HEBOSpace,
        metrics: Metric | str | Iterable[Metric | str] | Mapping[str, Any] | None = None,
        seed: int | None = None,
        batch_size: int = 1,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
    ) -> None:
        self.fidelities = as_fidelities(fidelities)
        self._at_max = {f.name: f.clip(f.high) for f in self.fidelities}
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        self.hebo = hebo
        self.space = space
        self.metrics = as_metrics(metrics)
        self.batch_size = batch_size
        self.random_state = IsolatedRandomState(seed)
        self._pd = hebo_module("pandas")
        self._np = hebo_module("numpy")
        self._queue: list[dict[str, Any]] = []
        self._count = 0
        self._worst: list[float | None] = [
            m.as_cost(m.worst) if m.worst is not None else None for m in self.metrics
        ]
        self._seen_worst: list[float | None] = [None] * len(self.metrics)
        self._deferred: list[tuple[dict[str, Any], list[float | None]]] = []
        self._pending: PendingTrials[dict[str, Any]] = PendingTrials("HEBOOptimizer")

    @classmethod
    def create(
        cls,
        *,
        space: Space | Mapping[str, Any],
        seed: int | None = None,
        metrics: Metric | str | Iterable[Metric | str] | Mapping[str, Any] | None = None,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
        batch_size: int = 1,
        **options: Any,
    ) -> HEBOOptimizer:
        """Convert the space and create HEBO: what ``create_optimizer("hebo")`` calls.

        Args:
            space: byop's `Space` (or a dictionary written the byop way). Conditions are not
                supported by HEBO (an `InvalidSpaceError` says so).
            seed: Seeds the random streams HEBO draws from, and its Sobol design;
                ``None`` draws a seed.
            metrics: The metrics the objective reports; several make a ``GeneralBO`` with one
                objective each.
            fidelities: The declared fidelities: HEBO has no multi-fidelity, so every trial is
                evaluated at their maximum (``trial.fidelities``).
            batch_size: How many suggestions to ask HEBO for at once.
            **options: Passed to ``HEBO`` (e.g. ``rand_sample=10``, ``model_name="gp"``) or
                ``GeneralBO`` (e.g. ``evo_pop=50``).

        Raises:
            InvalidSpaceError: See `to_hebo`.
        """
        declared_fidelities = as_fidelities(fidelities)
        seed = as_seed(seed)
        declared = as_metrics(metrics)
        converted = to_hebo(space)
        random_state = IsolatedRandomState(seed)
        if converted.design_space is None:
            # Nothing to search (HEBO's space needs a parameter): its one configuration.
            optimizer = cls(
                hebo=None,
                space=converted,
                metrics=declared,
                seed=seed,
                fidelities=declared_fidelities,
            )
            optimizer.random_state = random_state
            return optimizer
        optimizers = hebo_module("hebo.optimizers.hebo")
        # pymoo 0.6.0 has no compiled modules for Python 3.11 and prints so to stdout.
        hebo_module("pymoo.config").Config.warnings["not_compiled"] = False
        with random_state:
            if len(declared) == 1:
                options.setdefault("scramble_seed", random_state.seed)
                hebo = optimizers.HEBO(converted.design_space, **options)
            else:
                general = hebo_module("hebo.optimizers.general")
                hebo = general.GeneralBO(converted.design_space, num_obj=len(declared), **options)
        optimizer = cls(
            hebo=hebo,
            space=converted,
            metrics=declared,
            seed=random_state.seed,
            batch_size=batch_size,
            fidelities=declared_fidelities,
        )
        optimizer.random_state = random_state
        return optimizer

    # ------------------------------------------------------------------ ask and tell
    def ask(self) -> Trial[HEBOTrialInfo]:
        """The next suggestion of HEBO's current batch (a new batch when it is used up).

        Raises:
            OptimizerExhaustedError: The space has nothing to search and its one configuration
                was asked already.
        """
        if self.hebo is None:
            if self._count:
                raise OptimizerExhaustedError(
                    "The space has nothing to search: its one configuration, "
                    f"{self.space.config({})}, was asked already."
                )
            self._queue = [{}]
        if not self._queue:
            self._queue = self._suggest()
        row = self._queue.pop(0)
        self._count += 1
        name = self._pending.add(f"{self.PREFIX}-{self._count}", row)
        config = self.space.config(row)
        info = HEBOTrialInfo(self._count)
        if self._at_max:
            return self._pending.issue(Trial(name, config, info, fidelities=dict(self._at_max)))
        return self._pending.issue(Trial(name, config, info))

    def tell(self, report: Report[HEBOTrialInfo]) -> None:
        """Tell HEBO the report as costs (see the class for how each kind is told).

        Raises:
            UnknownTrialError: The trial was not asked of this optimizer, or was told already.
            KeyError: A success lacks a declared metric (the trial stays pending).
        """
        row = self._pending.get(report)
        costs = self._costs(report, strict=True)
        self._observe([(row, costs)])
        self._pending.pop(report)

    def restore(self, reports: Iterable[Report[Any]]) -> None:
        """Tell HEBO the reports of an earlier run, as trials it did not ask for.

        Each configuration becomes a row of HEBO's space (from live or stored reports alike)
        and all are observed at once; new trials are numbered after the restored ones.

        Raises:
            ValueError: A configuration is not in the space.
        """
        observations = []
        for report in reports:
            trial = report.trial
            try:
                row = self.space.row(trial.config)
            except (ValueError, KeyError) as e:
                raise ValueError(f"Cannot restore trial {trial.name!r} into HEBO: {e}") from e
            observations.append((row, self._costs(report, strict=False)))
            self._pending.mark_told(trial.name)
            number = _number(trial.info)
            if number is not None:
                self._count = max(self._count, number)
        self._observe(observations)

    # ------------------------------------------------------------------ helpers
    def _suggest(self) -> list[dict[str, Any]]:
        pending = self._pending.values()
        n = max(self.batch_size, len(pending) + 1) if pending else self.batch_size
        with self.random_state:
            suggestions = self.hebo.suggest(n_suggestions=n)
        rows: list[dict[str, Any]] = suggestions.to_dict("records")
        if pending:
            taken = [self.space.config(r) for r in pending]
            fresh = [r for r in rows if self.space.config(r) not in taken]
            rows = fresh or rows
        return rows

    def _costs(self, report: Report[Any], *, strict: bool) -> list[float | None]:
        results = report.results
        if isinstance(report, Trial.SuccessReport):
            if strict:
                values = [m.as_cost(report[m.name]) for m in self.metrics]
            elif all(m.name in results for m in self.metrics):
                values = [m.as_cost(results[m.name]) for m in self.metrics]
            else:
                return list(self._worst)
        elif isinstance(report, Trial.FailReport) and all(
            is_finite_number(results.get(m.name)) for m in self.metrics
        ):
            values = [m.as_cost(results[m.name]) for m in self.metrics]
        else:
            return list(self._worst)
        return [v if math.isfinite(v) else self._worst[i] for i, v in enumerate(values)]

    def _observe(self, observations: list[tuple[dict[str, Any], list[float | None]]]) -> None:
        """Observe rows with costs; a cost not known yet (None) is the worst seen, or waits."""
        for costs in (c for _, c in observations):
            for i, cost in enumerate(costs):
                if cost is not None:
                    seen = self._seen_worst[i]
                    self._seen_worst[i] = cost if seen is None else max(seen, cost)
        ready: list[tuple[dict[str, Any], list[float]]] = []
        waiting: list[tuple[dict[str, Any], list[float | None]]] = []
        for row, costs in [*self._deferred, *observations]:
            filled = [c if c is not None else self._seen_worst[i] for i, c in enumerate(costs)]
            if any(c is None for c in filled):
                waiting.append((row, costs))
            else:
                ready.append((row, [float(c) for c in filled if c is not None]))
        self._deferred = waiting
        if not ready or self.hebo is None:
            return
        frame = self._pd.DataFrame([row for row, _ in ready], columns=list(ready[0][0]))
        y = self._np.array([costs for _, costs in ready], dtype=float)
        # No random streams swapped here: observe only appends the data (the model is fitted on
        # suggest), and the swap is most of byop's cost per trial.
        self.hebo.observe(frame, y)

    def __repr__(self) -> str:
        return (
            f"HEBOOptimizer({type(self.hebo).__name__}, seed={self.random_state.seed}, "
            f"metrics={[m.name for m in self.metrics]}, "
            f"observed={0 if self.hebo is None else len(self.hebo.y)}, "
            f"pending={len(self._pending)})"
        )


def _number(info: Any) -> int | None:
    if isinstance(info, HEBOTrialInfo):
        return info.number
    if isinstance(info, Mapping) and isinstance(info.get("number"), int):
        return int(info["number"])
    return None
