"""Random search: configurations drawn at random from the space."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from attrs import frozen

from byop.optimization._errors import OptimizerExhaustedError
from byop.optimization._optimizer import Fidelity, Metric, as_fidelities, as_metrics, as_seed
from byop.optimization._pending import PendingTrials
from byop.optimization._report import Report
from byop.optimization._trial import Trial
from byop.pipeline import NumpySampler, Sampler, Space, as_sampler, config_key, sampler_for


@frozen
class RSTrialInfo:
    """What `RandomSearch` keeps with each trial (``trial.info``).

    Attributes:
        number: The trial's position among the trials asked, from 0.
        attempts: How many samples were drawn to find a configuration not seen before.
    """

    number: int
    attempts: int = 1

    def __reduce__(self) -> tuple[type[RSTrialInfo], tuple[int, int]]:
        return (RSTrialInfo, (self.number, self.attempts))  # faster than attrs' getstate


class RandomSearch:
    """Samples configurations from the space at random, by default never the same one twice.

    An empty space has one configuration, ``{}``: it is asked once (then the space is
    exhausted), or again and again with ``duplicates=True``.

    Args:
        space: The space: byop's `Space` (from ``searchable(...).space()``), a dictionary, or
            anything the sampler accepts (a ``ConfigurationSpace`` with ``ConfigSpaceSampler``).
        seed: Seeds the sampling: the same seed gives the same configurations.
            ``None`` draws one (readable as ``.seed``).
        sampler: A sampler class or instance, or a function ``(space, seed) -> config`` that
            receives ``space`` as given. By default the registered sampler for the space.
        duplicates: Whether the same configuration may be asked twice.
        max_sample_attempts: Without duplicates, how many samples to draw for one new
            configuration before deciding the space is exhausted.
        metrics: The metrics the objective reports (kept for reference; random search ignores
            results).
        fidelities: The declared fidelities: every trial is evaluated at their maximum
            (``trial.fidelities``; ``trial.budget`` for a single one).

    Raises:
        byop.pipeline.InvalidSpaceError: The space cannot be sampled (when the default sampler
            reads it); the message names the hyperparameter.
        TypeError: The seed is not an int (ValueError: not in ``[0, 2**32)``).
        RandomSearch.ExhaustedError: From `ask`, when no new configuration can be found.

    Example:
        ```python
        from byop.optimization import RandomSearch
        from byop.pipeline import searchable

        space = searchable("s", space={"x": (-10.0, 10.0)}).space()
        rs = RandomSearch(space=space, seed=42)
        trial = rs.ask()
        rs.tell(trial.success(cost=trial.config["x"] ** 2))
        ```
    """

    class ExhaustedError(OptimizerExhaustedError):
        """No configuration that was not asked before could be sampled: the space is used up."""

    def __init__(
        self,
        *,
        space: Any,
        seed: int | None = None,
        sampler: Any = None,
        duplicates: bool = False,
        max_sample_attempts: int = 50,
        metrics: Metric | str | Iterable[Metric | str] | Mapping[str, Any] | None = None,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, Any] | None = None,
    ) -> None:
        if (
            isinstance(max_sample_attempts, bool)
            or not isinstance(max_sample_attempts, int)
            or max_sample_attempts < 1
        ):
            raise ValueError(
                f"max_sample_attempts must be an int >= 1, got {max_sample_attempts!r}."
            )
        checked = as_seed(seed)
        self.space = space
        self.seed: int = (
            int.from_bytes(os.urandom(4), "little") >> 1 if checked is None else checked
        )
        self.sampler: Sampler = sampler_for(space) if sampler is None else as_sampler(sampler)
        if isinstance(self.sampler, NumpySampler):
            Space.from_dict(space)  # a space written as a dictionary is checked now, not at ask()
        self.duplicates = duplicates
        self.max_sample_attempts = max_sample_attempts
        self.metrics = as_metrics(metrics)
        self.fidelities = as_fidelities(fidelities)
        self._at_max: dict[str, float] = {f.name: f.clip(f.high) for f in self.fidelities}
        self._stream: Iterator[dict[str, Any]] | None = None
        self._seen: set[Any] = set()
        self._pending: PendingTrials[Trial[RSTrialInfo]] = PendingTrials("RandomSearch")
        self._next = 0
        # Configurations of restored reports, with how often each is still to be drawn again:
        # the restarted stream replays them first, and a replay is not a failed attempt.
        self._replays: dict[Any, int] = {}

    def ask(self) -> Trial[RSTrialInfo]:
        """A new trial with a configuration drawn at random.

        Raises:
            RandomSearch.ExhaustedError: Without duplicates, ``max_sample_attempts`` samples in a
                row were all configurations asked before.
        """
        if self._stream is None:
            self._stream = self.sampler.stream(self.space, self.seed)
        stream = self._stream
        config = next(stream)
        replays = self._replays
        if replays:
            config = self._skip_replays(stream, config)
        attempts = 1
        if not self.duplicates:
            key = config_key(config)
            seen = self._seen
            while key in seen:
                if not config:
                    raise RandomSearch.ExhaustedError(
                        "The space is empty: its one configuration, {}, was asked already. "
                        "Pass duplicates=True to ask it again and again."
                    )
                if attempts >= self.max_sample_attempts:
                    raise RandomSearch.ExhaustedError(
                        f"RandomSearch drew {attempts} configurations in a row that were all "
                        f"asked before ({len(seen)} unique so far): the space looks exhausted. "
                        "Pass duplicates=True to allow repeats, or a larger "
                        "max_sample_attempts if the space is large but crowded."
                    )
                config = next(stream)
                key = config_key(config)
                attempts += 1
            seen.add(key)
        number = self._next
        self._next = number + 1
        name = f"rs-{number}"
        info = RSTrialInfo(number, attempts)
        trial: Trial[RSTrialInfo] = (
            Trial(name, config, info, self.seed, fidelities=dict(self._at_max))
            if self._at_max
            else Trial(name, config, info, self.seed)
        )
        self._pending.add(name, trial)
        return self._pending.issue(trial)

    def _skip_replays(
        self, stream: Iterator[dict[str, Any]], config: dict[str, Any]
    ) -> dict[str, Any]:
        """Draw past configurations that restored reports already had (each once)."""
        replays = self._replays
        key = config_key(config)
        while (left := replays.get(key, 0)) > 0:
            if left == 1:
                del replays[key]
            else:
                replays[key] = left - 1
            config = next(stream)
            key = config_key(config)
        return config

    def tell(self, report: Report[RSTrialInfo]) -> None:
        """Take the report of a trial this optimizer asked for.

        Raises:
            TypeError: ``report`` is not a report.
            UnknownTrialError: The trial was not asked of this optimizer, or was told already.
        """
        self._pending.pop(report)

    def restore(self, reports: Iterable[Report[Any]]) -> None:
        """Take reports of an earlier run: their configurations count as seen.

        New trials are numbered after the restored ones, so names stay unique. With the same
        seed, the sampler draws the earlier run's configurations again first: those draws are
        passed over (they are not counted as attempts), so asking goes on where the earlier
        run stopped, however many reports were restored.
        """
        for report in reports:
            trial = report.trial
            key = config_key(trial.config)
            if trial.name not in self._pending.told:
                self._replays[key] = self._replays.get(key, 0) + 1
            self._seen.add(key)
            self._pending.mark_told(trial.name)
            number = _rs_number(trial)
            if number is not None:
                self._next = max(self._next, number + 1)

    def __repr__(self) -> str:
        return (
            f"RandomSearch(seed={self.seed}, sampler={self.sampler!r}, "
            f"duplicates={self.duplicates}, asked={self._next})"
        )


def _rs_number(trial: Trial[Any]) -> int | None:
    info = trial.info
    if isinstance(info, RSTrialInfo):
        return info.number
    if isinstance(trial.name, str) and trial.name.startswith("rs-"):
        try:
            return int(trial.name[3:])
        except ValueError:
            return None
    return None
