"""What byop's multi-fidelity optimizers share: rungs, where configurations come from, results.

Successive halving, Hyperband and ASHA evaluate configurations at increasing values of one
declared `Fidelity` (epochs, a fraction of the data...), the rungs, and promote the best of each
rung to the next. `MultiFidelityOptimizer` keeps what they share: the rungs, the configurations
and their results per rung, the trials asked and not yet told, resuming; each subclass decides
what to ask next (`MultiFidelityOptimizer._next`) and learns of each result
(`MultiFidelityOptimizer._learn`).
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from attrs import frozen

from byop.optimization._optimizer import Fidelity, Metric, Optimizer, as_fidelities, as_metrics
from byop.optimization._pending import PendingTrials
from byop.optimization._trial import Report, ReportStatus, Trial
from byop.pipeline import Sampler, as_sampler, sampler_for


@frozen
class MFTrialInfo:
    """What a multi-fidelity optimizer keeps with each trial (``trial.info``).

    Attributes:
        config_id: Which configuration, numbered from 0 in the order they were first asked.
        rung: Which rung (0 is the lowest fidelity).
        bracket: Which bracket (successive halving, Hyperband); 0 for ASHA.
    """

    config_id: int
    rung: int
    bracket: int = 0


def rung_values(fidelity: Fidelity, eta: float) -> tuple[float, ...]:
    """The fidelity values of the rungs, lowest first: ``high``, ``high / eta``, ... >= ``low``.

    Example:
        ```python
        from byop.optimization import Fidelity
        from byop.optimization._multifidelity import rung_values

        assert rung_values(Fidelity("epochs", 1, 27, integer=True), 3) == (1.0, 3.0, 9.0, 27.0)
        ```
    """
    if not eta > 1:
        raise ValueError(f"eta must be above 1, got {eta!r}.")
    n = math.floor(math.log(fidelity.high / fidelity.low) / math.log(eta) + 1e-9)
    values: list[float] = []
    for k in range(n, -1, -1):
        value = fidelity.clip(fidelity.high / eta**k)
        if not values or value > values[-1]:
            values.append(value)
    return tuple(values)


class MultiFidelityOptimizer(ABC):
    """The shared base of byop's multi-fidelity optimizers.

    Args:
        space: The search space.
        fidelities: The declared fidelities: exactly one (or give ``fidelity=``).
        fidelity: The fidelity, when not declared through ``fidelities=``.
        seed: Seeds the configurations drawn.
        eta: How many times fewer configurations each rung keeps, and how many times higher its
            fidelity is.
        sampler: Where new configurations come from (a sampler class or instance, or a
            function ``(space, seed) -> config``); by default the registered sampler for the
            space.
        optimizer: Or: an optimizer asked for each new configuration, and told its result at
            the lowest fidelity (a model-based optimizer then guides the search).
        metrics: The metrics the objective reports; the first ranks configurations.
    """

    prefix = "mf"

    def __init__(
        self,
        *,
        space: Any,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
        fidelity: Fidelity | None = None,
        seed: int | None = None,
        eta: float = 3,
        sampler: Any = None,
        optimizer: Optimizer[Any] | None = None,
        metrics: Metric | str | Iterable[Metric | str] | Mapping[str, Any] | None = None,
    ) -> None:
        declared = as_fidelities(fidelities) + ((fidelity,) if fidelity is not None else ())
        name = type(self).__name__
        if len(declared) != 1:
            raise ValueError(
                f"{name} needs exactly one fidelity to vary, got {len(declared)}: declare it "
                "with fidelities=[Fidelity('epochs', 1, 27)] (or optimize(..., fidelities=...))."
            )
        if sampler is not None and optimizer is not None:
            raise TypeError(
                f"{name} takes sampler= or optimizer= for new configurations, not both."
            )
        self.space = space
        self.fidelity = declared[0]
        self.eta = eta
        self.rungs = rung_values(self.fidelity, eta)
        self.seed: int = int.from_bytes(os.urandom(4), "little") >> 1 if seed is None else seed
        self.metrics = as_metrics(metrics)
        self.metric = self.metrics[0]
        self.inner = optimizer
        self.sampler: Sampler | None = None
        if optimizer is None:
            self.sampler = sampler_for(space) if sampler is None else as_sampler(sampler)
        self._stream: Iterator[dict[str, Any]] | None = None
        self.configs: dict[int, dict[str, Any]] = {}
        """Every configuration asked, by its id."""
        self.results: dict[tuple[int, int], float] = {}
        """The cost of each configuration at each rung it was evaluated at (inf: it failed)."""
        self._inner_trials: dict[int, Trial[Any]] = {}
        self._pending: PendingTrials[MFTrialInfo] = PendingTrials(name)
        self._next_config = 0

    # ------------------------------------------------------------------ for subclasses
    @abstractmethod
    def _next(self) -> tuple[int, int, int]:
        """What to ask next: ``(config id, rung, bracket)`` (`_new_config` makes a new one)."""

    def _learn(self, info: MFTrialInfo, cost: float) -> None:  # noqa: B027 - optional
        """A result arrived (also when restored); bookkeeping of the subclass."""

    def _new_config(self) -> int:
        """A new configuration, from the sampler's stream or the inner optimizer; its id."""
        config_id = self._next_config
        if self.inner is not None:
            trial = self.inner.ask()  # OptimizerExhaustedError ends the search
            self._inner_trials[config_id] = trial
            config = dict(trial.config)
        else:
            if self._stream is None:
                assert self.sampler is not None
                self._stream = self.sampler.stream(self.space, self.seed)
            config = next(self._stream)
        self.configs[config_id] = config
        self._next_config = config_id + 1
        return config_id

    def top(self, candidates: Iterable[int], rung: int, k: int) -> list[int]:
        """The ``k`` best configurations of ``candidates`` at ``rung`` (ties by id)."""
        return sorted(candidates, key=lambda c: (self.results[(c, rung)], c))[:k]

    # ------------------------------------------------------------------ ask and tell
    def ask(self) -> Trial[MFTrialInfo]:
        """The next configuration to evaluate, at the fidelity of its rung.

        Raises:
            OptimizerExhaustedError: The inner optimizer has no more configurations.
        """
        config_id, rung, bracket = self._next()
        info = MFTrialInfo(config_id, rung, bracket)
        name = self._pending.add(f"{self.prefix}-{config_id}-r{rung}", info)
        value = self.rungs[rung]
        fidelity: float = int(value) if self.fidelity.integer else value
        trial = Trial(
            name=name,
            config=dict(self.configs[config_id]),
            info=info,
            seed=self.seed,
            fidelities={self.fidelity.name: fidelity},
        )
        return self._pending.issue(trial)

    def tell(self, report: Report[Any]) -> None:
        """Take the report of a trial this optimizer asked for.

        Raises:
            UnknownTrialError: The trial was not asked of this optimizer, or was told already.
            KeyError: A successful report lacks the metric that ranks configurations.
        """
        info = self._pending.get(report)
        cost = self._cost(report)
        self._pending.pop(report)
        self._record(info, cost, report)

    def restore(self, reports: Iterable[Report[Any]]) -> None:
        """Take the reports of an earlier run, as if this optimizer had asked and been told them.

        The configurations and their results per rung come back; new configurations are
        drawn after the restored ones (the same seed goes on where it stopped).
        """
        for report in reports:
            info = _info_of(report.trial)
            if info is None:
                continue
            self._pending.mark_told(report.trial.name)
            self.configs.setdefault(info.config_id, dict(report.trial.config))
            if info.config_id >= self._next_config:
                skip = info.config_id + 1 - self._next_config
                if self.inner is None:
                    if self._stream is None:
                        assert self.sampler is not None
                        self._stream = self.sampler.stream(self.space, self.seed)
                    for _ in range(skip):
                        next(self._stream)
                self._next_config = info.config_id + 1
            self._record(info, self._cost(report, strict=False), report)

    # ------------------------------------------------------------------ results
    def _cost(self, report: Report[Any], *, strict: bool = True) -> float:
        if report.status is not ReportStatus.SUCCESS:
            return math.inf
        results = report.results
        if self.metric.name not in results:
            if not strict:
                return math.inf
            raise KeyError(
                f"Trial {report.trial.name!r} reported {sorted(results)}, not the metric "
                f"{self.metric.name!r} that ranks configurations; report it, or declare the "
                "metrics the objective reports."
            )
        value = float(results[self.metric.name])
        return self.metric.as_cost(value) if math.isfinite(value) else math.inf

    def _record(self, info: MFTrialInfo, cost: float, report: Report[Any]) -> None:
        self.results[(info.config_id, info.rung)] = cost
        self._learn(info, cost)
        inner_trial = self._inner_trials.pop(info.config_id, None)
        if inner_trial is not None and self.inner is not None:
            # The inner optimizer learns each configuration's result at its first rung.
            self.inner.tell(
                inner_trial.end(
                    report.status,
                    report.exception,
                    report.traceback,
                    results=report.results,
                    times=(report.time, report.cpu_time),
                )
            )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(seed={self.seed}, {self.fidelity.name}: rungs "
            f"{list(self.rungs)}, configs={len(self.configs)}, pending={len(self._pending)})"
        )


def _info_of(trial: Trial[Any]) -> MFTrialInfo | None:
    """The trial's `MFTrialInfo`, also when read back from a store as plain data."""
    info = trial.info
    if isinstance(info, MFTrialInfo):
        return info
    if isinstance(info, Mapping):
        data = info.get("data", info)
        try:
            return MFTrialInfo(int(data["config_id"]), int(data["rung"]), int(data["bracket"]))
        except (KeyError, TypeError, ValueError):
            return None
    return None
