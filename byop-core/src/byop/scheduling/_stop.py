"""Stop criteria: when a run has done enough. Compose with ``|`` (any) and ``&`` (all).

```python
task.stop_when(MaxTrials(200) | TargetCost(0.01) | NoImprovement(50))
```
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from byop.optimization import Report, ReportStatus


class StopCriterion:
    """Fed every report; says when the run should stop."""

    def update(self, report: Report[Any]) -> None:
        """Take one report into account."""

    def met(self) -> bool:
        """Whether the run should stop now."""
        raise TypeError(f"{type(self).__name__} must define met()")

    def __or__(self, other: StopCriterion) -> StopCriterion:
        return AnyOf(self, other)

    def __and__(self, other: StopCriterion) -> StopCriterion:
        return AllOf(self, other)


class AnyOf(StopCriterion):
    """Met when any of its criteria is."""

    def __init__(self, *criteria: StopCriterion) -> None:
        self.criteria = criteria

    def update(self, report: Report[Any]) -> None:
        """Feed every criterion."""
        for c in self.criteria:
            c.update(report)

    def met(self) -> bool:
        """Whether any criterion is met."""
        return any(c.met() for c in self.criteria)

    def __repr__(self) -> str:
        return " | ".join(map(repr, self.criteria))


class AllOf(AnyOf):
    """Met when all of its criteria are."""

    def met(self) -> bool:
        """Whether every criterion is met."""
        return all(c.met() for c in self.criteria)

    def __repr__(self) -> str:
        return " & ".join(map(repr, self.criteria))


class MaxTrials(StopCriterion):
    """Met after ``n`` reports (of the given statuses; by default every report counts)."""

    def __init__(self, n: int, *, statuses: tuple[ReportStatus, ...] | None = None) -> None:
        if n < 1:
            raise ValueError(f"MaxTrials needs n >= 1, got {n}.")
        self.n = n
        self.statuses = statuses
        self.seen = 0

    def update(self, report: Report[Any]) -> None:
        """Count the report."""
        if self.statuses is None or report.status in self.statuses:
            self.seen += 1

    def met(self) -> bool:
        """Whether ``n`` reports were seen."""
        return self.seen >= self.n

    def __repr__(self) -> str:
        return f"MaxTrials({self.n})"


def _cost(report: Report[Any], metric: str, minimize: bool) -> float | None:
    if report.status is not ReportStatus.SUCCESS or metric not in report.results:
        return None
    value = float(report.results[metric])
    return value if minimize else -value


class TargetCost(StopCriterion):
    """Met once a successful trial reaches ``target`` (at most, or at least when maximising)."""

    def __init__(self, target: float, *, metric: str = "cost", minimize: bool = True) -> None:
        self.target = target
        self.metric = metric
        self.minimize = minimize
        self.best = math.inf

    def update(self, report: Report[Any]) -> None:
        """Keep the best value."""
        cost = _cost(report, self.metric, self.minimize)
        if cost is not None:
            self.best = min(self.best, cost)

    def met(self) -> bool:
        """Whether the best value reached the target."""
        target = self.target if self.minimize else -self.target
        return self.best <= target

    def __repr__(self) -> str:
        return f"TargetCost({self.metric}{'<=' if self.minimize else '>='}{self.target})"


class NoImprovement(StopCriterion):
    """Met when ``n`` reports in a row did not improve on the best value."""

    def __init__(self, n: int, *, metric: str = "cost", minimize: bool = True) -> None:
        if n < 1:
            raise ValueError(f"NoImprovement needs n >= 1, got {n}.")
        self.n = n
        self.metric = metric
        self.minimize = minimize
        self.best = math.inf
        self.since = 0

    def update(self, report: Report[Any]) -> None:
        """Count reports since the last improvement."""
        cost = _cost(report, self.metric, self.minimize)
        if cost is not None and cost < self.best:
            self.best = cost
            self.since = 0
        else:
            self.since += 1

    def met(self) -> bool:
        """Whether ``n`` reports passed without improvement."""
        return self.since >= self.n

    def __repr__(self) -> str:
        return f"NoImprovement({self.n})"


class Timeout(StopCriterion):
    """Met ``seconds`` after the first report was seen, or after `start`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._start: float | None = None

    def start(self) -> None:
        """Start the clock now."""
        self._start = time.monotonic()

    def update(self, report: Report[Any]) -> None:
        """Start the clock at the first report if not started."""
        if self._start is None:
            self.start()

    def met(self) -> bool:
        """Whether the time is up."""
        return self._start is not None and time.monotonic() - self._start >= self.seconds

    def __repr__(self) -> str:
        return f"Timeout({self.seconds}s)"


class Predicate(StopCriterion):
    """Met when ``fn(report)`` returned true for a report."""

    def __init__(self, fn: Callable[[Report[Any]], bool]) -> None:
        self.fn = fn
        self._met = False

    def update(self, report: Report[Any]) -> None:
        """Ask the predicate."""
        if self.fn(report):
            self._met = True

    def met(self) -> bool:
        """Whether the predicate was true once."""
        return self._met

    def __repr__(self) -> str:
        return f"Predicate({getattr(self.fn, '__qualname__', self.fn)})"
