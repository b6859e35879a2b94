"""The trials an optimizer has asked for and not yet been told of."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from byop.optimization._errors import UnknownTrialError

V = TypeVar("V")


class PendingTrials(Generic[V]):
    """An optimizer's pending trials, by name, with what it keeps for each until it is told.

    It gives each new trial a name no trial of the optimizer had before, and explains a report
    it cannot take: a trial told already, or one it never asked for. Optimizer plugins use it
    so that every optimizer answers a wrong `tell` the same way.

    Args:
        optimizer: The optimizer's name, for messages.

    Example:
        ```python
        from byop.optimization import PendingTrials, UnknownTrialError

        pending: PendingTrials[int] = PendingTrials("MyOptimizer")
        name = pending.add("my-1", 1)
        assert pending.add("my-1", 2) == "my-1.1"  # names stay unique
        assert pending.pop(name) == 1
        try:
            pending.pop(name)
        except UnknownTrialError as e:
            assert "already told" in str(e)
        ```
    """

    def __init__(self, optimizer: str) -> None:
        self.optimizer = optimizer
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

    def get(self, name: str) -> V:
        """What was kept for the pending trial ``name``; it stays pending.

        Raises:
            UnknownTrialError: No trial of that name is pending.
        """
        try:
            return self._pending[name]
        except KeyError:
            raise self._unknown(name) from None

    def pop(self, name: str) -> V:
        """What was kept for the pending trial ``name``, which now counts as told.

        Raises:
            UnknownTrialError: No trial of that name is pending.
        """
        try:
            value = self._pending.pop(name)
        except KeyError:
            raise self._unknown(name) from None
        self.told.add(name)
        return value

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

    def _unknown(self, name: str) -> UnknownTrialError:
        if name in self.told:
            return UnknownTrialError(
                f"Trial {name!r} was already told to this {self.optimizer}; tell each report once."
            )
        return UnknownTrialError(
            f"Trial {name!r} was not asked of this {self.optimizer}; tell an optimizer only the "
            "reports of trials it asked for (use restore() for reports of an earlier run)."
        )

    def __repr__(self) -> str:
        return f"PendingTrials({self.optimizer}, pending={len(self)}, told={len(self.told)})"
