"""`optimize`'s ``stop_when=``: byop's stop criteria, checked as each report arrives."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from byop.optimization import Metric
from byop.scheduling import AnyOf, Predicate, StopCriterion, Timeout


def check_stop_when(stop_when: Any, metrics: tuple[Metric, ...]) -> StopCriterion | None:
    """One criterion (any of those given), fresh for this run.

    Takes a `StopCriterion` (``NoImprovement(50)``, ``TargetCost(0.01)``, ``MaxTrials(100)``,
    ``Timeout(60)``, combined with ``|`` and ``&``), a function ``fn(report) -> bool``, or a
    list of these (the run stops when any is met). Each is copied, so that a criterion given
    to two runs starts afresh in each.

    Raises:
        TypeError: Something else was given.
        ValueError: A criterion watches a metric the run does not report, or minimises one
            the run maximises (or the other way round).
    """
    if stop_when is None:
        return None
    items = [stop_when] if isinstance(stop_when, StopCriterion) or callable(stop_when) else None
    if items is None:
        if isinstance(stop_when, str | bytes) or not isinstance(stop_when, Iterable):
            raise TypeError(_what(stop_when))
        items = list(stop_when)
    criteria: list[StopCriterion] = []
    for item in items:
        if isinstance(item, StopCriterion):
            criteria.append(_fresh(item))
        elif callable(item):
            criteria.append(Predicate(item))
        else:
            raise TypeError(_what(item))
    if not criteria:
        return None
    for criterion in criteria:
        for leaf in leaves(criterion):
            _check_metric(leaf, metrics)
    return criteria[0] if len(criteria) == 1 else AnyOf(*criteria)


def _what(item: Any) -> str:
    return (
        "stop_when takes a stop criterion (NoImprovement(50), TargetCost(0.01), MaxTrials(n), "
        "Timeout(seconds), from byop.scheduling, combined with | and &), a function "
        f"fn(report) -> bool, or a list of these; got {type(item).__name__} {item!r}."
    )


def _fresh(criterion: StopCriterion) -> StopCriterion:
    try:
        return copy.deepcopy(criterion)
    except Exception:  # something that cannot be copied (a lock in a user's criterion)
        return criterion


def leaves(criterion: StopCriterion) -> Iterator[StopCriterion]:
    """The criteria inside combinations (``a | b & c``), and the criterion itself otherwise."""
    inner = getattr(criterion, "criteria", None)
    if isinstance(criterion, AnyOf) and inner is not None:
        for c in inner:
            yield from leaves(c)
    else:
        yield criterion


def start(criterion: StopCriterion | None) -> None:
    """Start the clocks of the time criteria (they count from the start of this call)."""
    if criterion is not None:
        for leaf in leaves(criterion):
            if isinstance(leaf, Timeout):
                leaf.start()


def _check_metric(criterion: StopCriterion, metrics: tuple[Metric, ...]) -> None:
    name = getattr(criterion, "metric", None)
    minimize = getattr(criterion, "minimize", None)
    if not isinstance(name, str) or not isinstance(minimize, bool):
        return
    by_name = {m.name: m for m in metrics}
    metric = by_name.get(name)
    if metric is None:
        raise ValueError(
            f"stop_when: {criterion!r} watches the metric {name!r}, which the run does not "
            f"report (its metrics: {', '.join(by_name)}). Pass metric= to the criterion."
        )
    if metric.minimize != minimize:
        direction = "minimises" if metric.minimize else "maximises"
        raise ValueError(
            f"stop_when: the run {direction} {name!r}, but {criterion!r} was made with "
            f"minimize={minimize}: make it with minimize={metric.minimize}."
        )
