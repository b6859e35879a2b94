"""The Pareto front of a history: against a brute-force definition, with ties and gaps."""

from __future__ import annotations

import random

import pytest

from byop.history import History, pareto_front
from byop.optimization import Metric, Trial

METRICS = (Metric("loss"), Metric("accuracy", minimize=False))


def report(name, **results):
    return Trial(name=name, config={}).success(**results)


def brute_force(points):
    def dominates(p, q):
        return p[0] <= q[0] and p[1] >= q[1] and p != q

    front, seen = [], set()
    for i, p in enumerate(points):
        if not any(dominates(q, p) for q in points) and p not in seen:
            front.append(i)
            seen.add(p)
    return front


@pytest.mark.parametrize("seed", range(5))
def test_the_front_is_every_point_nothing_dominates(seed):
    rng = random.Random(seed)
    points = [(round(rng.random(), 1), round(rng.random(), 1)) for _ in range(200)]
    history = History(metrics=METRICS)
    for i, (loss, acc) in enumerate(points):
        history.add(report(f"t{i}", loss=loss, accuracy=acc))
    front = history.pareto_front()
    assert [r.trial.name for r in front] == [f"t{i}" for i in brute_force(points)]


def test_failures_and_missing_metrics_take_no_part():
    trials = [Trial(name=n, config={}) for n in "abcd"]
    reports = [
        trials[0].success(loss=1.0, accuracy=0.5),
        trials[1].success(loss=0.5),  # no accuracy
        trials[2].fail(loss=0.0, accuracy=1.0),
        trials[3].success(loss=2.0, accuracy=0.9),
    ]
    assert [r.trial.name for r in pareto_front(reports, METRICS)] == ["a", "d"]


def test_one_metric_gives_the_best_and_other_metrics_can_be_chosen():
    history = History(metrics=METRICS)
    for name, loss, acc in [("a", 3.0, 0.9), ("b", 1.0, 0.1), ("c", 1.0, 0.1)]:
        history.add(report(name, loss=loss, accuracy=acc))
    assert [r.trial.name for r in history.pareto_front(["loss"])] == ["b"]
    assert [r.trial.name for r in history.pareto_front()] == ["a", "b"]
    with pytest.raises(ValueError, match="at least one metric"):
        pareto_front(history, [])
