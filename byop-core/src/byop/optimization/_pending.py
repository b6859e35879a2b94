"""The trials an optimizer has asked for and not yet been told of."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from byop.optimization._errors import UnknownTrialError
from byop.optimization._report import Report
from byop.optimization._trial import Trial

V = TypeVar("V")
T = TypeVar("T", bound=Trial[Any])


class PendingTrials(Generic[V]):
    """An optimizer's pending trials, with what it keeps for each until it is told.

    It gives each new trial a name no trial of the optimizer had before, marks the trials the
    optimizer hands out as its own, and explains a report it cannot take: not a report at all,
    a trial told already, or one it never asked for. Names alone do not identify a trial: two
    optimizers of one kind name their trials alike (``rs-0``, ``optuna-0``...), so a report of
    another optimizer's trial is refused even when a trial of the same name is pending here. A
    trial is recognised by a token `issue` gives it, which pickled copies keep (a report that
    comes back from a worker process is still this optimizer's). Optimizer plugins use it so
    that every optimizer answers a wrong `tell` the same way.

    The optimizer's ``ask`` calls `add` (to name the trial) and `issue` (to hand it out); its
    ``tell`` calls `get` or `pop` with the report; its ``restore`` calls `mark_told` with the
    names of the trials of an earlier run.

    Args:
        optimizer: The optimizer's name, for messages.

    Example:
        ```python
        from byop.optimization import PendingTrials, Trial, UnknownTrialError

        pending: PendingTrials[int] = PendingTrials("MyOptimizer")
        name = pending.add("my-1", 1)
        assert pending.add("my-1", 2) == "my-1.1"  # names stay unique
        trial = pending.issue(Trial(name, config={"x": 0.5}))
        report = trial.success(cost=0.5)
        assert pending.pop(report) == 1

        other = PendingTrials[int]("MyOptimizer")  # another optimizer, same trial names
        twin = other.issue(Trial(other.add("my-1", 3), config={"x": 0.1}))
        try:
            pending.pop(twin.success(cost=0.1))
        except UnknownTrialError as e:
            assert "not asked of this MyOptimizer" in str(e)
        ```
    """

    def __init__(self, optimizer: str) -> None:
        self.optimizer = optimizer
        self._token = int.from_bytes(os.urandom(8), "little") >> 2
        self._pending: dict[str, V] = {}
        self.told: set[str] = set()
        """The names of the trials told, or restored from an earlier run."""

    def add(self, name: str, value: V) -> str:
        """Keep ``value`` for a new trial: named ``name``, or ``name.1``, ``name.2``... if taken.

        Returns:
            The trial's name.
        """
        candidate, k = name, 1
        while candidate in self._pending or candidate in self.told:
            candidate = f"{name}.{k}"
            k += 1
        self._pending[candidate] = value
        return candidate

    def issue(self, trial: T) -> T:
        """Mark ``trial`` (named by `add`) as this optimizer's, to hand it out; returns it.

        Raises:
            UnknownTrialError: No trial of that name is pending (`add` it first).
        """
        if trial.name not in self._pending:
            raise UnknownTrialError(
                f"Trial {trial.name!r} is not pending in this {self.optimizer}: name it with "
                "add() before issuing it."
            )
        trial._asked_by = self._token
        return trial

    def get(self, report: Report[Any]) -> V:
        """What was kept for the trial of ``report``; the trial stays pending.

        Raises:
            TypeError: ``report`` is not a report.
            UnknownTrialError: The trial was not asked of this optimizer, or was told already.
        """
        return self._pending[self._name(report)]

    def named(self, name: str) -> V:
        """What was kept for the pending trial ``name`` (e.g. one reporting progress).

        Raises:
            KeyError: No trial of that name is pending.
        """
        return self._pending[name]

    def pop(self, report: Report[Any]) -> V:
        """What was kept for the trial of ``report``, which now counts as told.

        Raises:
            TypeError: ``report`` is not a report.
            UnknownTrialError: The trial was not asked of this optimizer, or was told already.
        """
        name = self._name(report)
        self.told.add(name)
        return self._pending.pop(name)

    def mark_told(self, name: str) -> None:
        """Count ``name`` as told (a trial of an earlier run, restored)."""
        self.told.add(name)

    def values(self) -> list[V]:
        """What is kept for each pending trial, in the order they were asked."""
        return list(self._pending.values())

    def __contains__(self, name: object) -> bool:
        return name in self._pending

    def __iter__(self) -> Iterator[str]:
        return iter(self._pending)

    def __len__(self) -> int:
        return len(self._pending)

    def _name(self, report: Any) -> str:
        """The name of the pending trial ``report`` reports on, or the error explaining why not."""
        if not isinstance(report, Report):
            raise TypeError(_not_a_report(self.optimizer, report))
        trial = report.trial
        name = trial.name
        token = trial._asked_by
        mine = token == self._token
        if mine and name in self._pending:
            return name
        another = not mine and token is not None  # asked of another optimizer
        if name in self.told and not another:
            raise UnknownTrialError(
                f"Trial {name!r} was already told to this {self.optimizer}"
                + ("" if mine else " (or restored into it)")
                + "; tell each report once."
            )
        raise UnknownTrialError(
            f"Trial {name!r} was not asked of this {self.optimizer}"
            + (" but of another optimizer, whose trials are named like its own" if another else "")
            + "; tell an optimizer only the reports of trials it asked for (use restore() for "
            "reports of an earlier run)."
        )

    def __repr__(self) -> str:
        return f"PendingTrials({self.optimizer}, pending={len(self)}, told={len(self.told)})"


def _not_a_report(optimizer: str, value: Any) -> str:
    if isinstance(value, Trial):
        return (
            f"{optimizer}.tell() takes a trial's report, got the Trial {value.name!r} itself: "
            "tell what trial.success(...) or trial.fail() returned."
        )
    return (
        f"{optimizer}.tell() takes the report of a trial it asked for, got "
        f"{type(value).__name__} {value!r}. An objective returns it: "
        "`return trial.success(cost=...)` or `return trial.fail()`."
    )
