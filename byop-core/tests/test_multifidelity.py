"""Successive halving, Hyperband and ASHA: rungs, promotions, brackets, resuming."""

from __future__ import annotations

from collections import Counter

import pytest

from byop.optimization import (
    ASHA,
    Fidelity,
    Hyperband,
    OptimizerExhaustedError,
    RandomSearch,
    SuccessiveHalving,
    UnknownTrialError,
    create_optimizer,
)
from byop.optimization._multifidelity import rung_values
from byop.serialization import dumps, loads
from byop.testing import OptimizerConformance

EPOCHS = Fidelity("epochs", 1, 27, integer=True)
SPACE = {"x": (0.0, 1.0)}


def loss(trial):
    """Better for x near 0.3, and at a higher fidelity."""
    return (trial.config["x"] - 0.3) ** 2 + 1.0 / trial.fidelities["epochs"]


def drive(optimizer, n):
    trials = []
    for _ in range(n):
        trial = optimizer.ask()
        optimizer.tell(trial.success(cost=loss(trial)))
        trials.append(trial)
    return trials


class _Suite(OptimizerConformance):
    checks_results = True
    declares_fidelities = True
    supports_multi_objective = True

    def create(self, *, space, seed, **kwargs):
        return create_optimizer(
            self.optimizer_name, space=space, seed=seed, fidelities=[EPOCHS], **kwargs
        )


class TestSuccessiveHalving(_Suite):
    optimizer_name = "successive_halving"


class TestHyperband(_Suite):
    optimizer_name = "hyperband"


class TestASHA(_Suite):
    optimizer_name = "asha"


def test_rungs_are_the_fidelity_divided_by_eta():
    assert rung_values(EPOCHS, 3) == (1.0, 3.0, 9.0, 27.0)
    assert rung_values(Fidelity("frac", 0.1, 1.0), 2) == pytest.approx((0.125, 0.25, 0.5, 1.0))
    assert rung_values(Fidelity("epochs", 1, 2, integer=True), 3) == (2.0,)
    with pytest.raises(ValueError, match="eta must be above 1"):
        rung_values(EPOCHS, 1)


def test_successive_halving_keeps_a_third_of_each_rung_and_promotes_the_best():
    sh = SuccessiveHalving(space=SPACE, fidelities=[EPOCHS], seed=0)
    first = [sh.ask() for _ in range(27)]
    assert {t.fidelities["epochs"] for t in first} == {1}
    for t in first:
        sh.tell(t.success(cost=loss(t)))
    second = [sh.ask() for _ in range(9)]
    assert {t.fidelities["epochs"] for t in second} == {3}
    best = sorted(first, key=loss)[:9]
    assert sorted(t.config["x"] for t in second) == sorted(t.config["x"] for t in best)
    counts = Counter(t.fidelities["epochs"] for t in drive(sh, 13 + 40))
    assert counts[27] >= 1 and counts[9] >= 3


def test_a_waiting_bracket_lets_the_next_one_start():
    sh = SuccessiveHalving(space=SPACE, fidelities=[EPOCHS], seed=0)
    trials = [sh.ask() for _ in range(28)]  # 27 in the first bracket, then a second starts
    assert [t.info.bracket for t in trials].count(1) == 1
    assert len({t.name for t in trials}) == 28


def test_failed_configurations_are_never_promoted():
    sh = SuccessiveHalving(space=SPACE, fidelities=[EPOCHS], seed=0)
    first = [sh.ask() for _ in range(27)]
    for i, t in enumerate(first):
        sh.tell(t.success(cost=loss(t)) if i < 2 else t.fail())
    promoted = [sh.ask() for _ in range(2)]
    assert {t.info.config_id for t in promoted} == {0, 1}
    assert all(t.fidelities["epochs"] == 3 for t in promoted)
    assert sh.ask().info.bracket == 1  # nothing else to promote: the next bracket starts


def test_hyperband_cycles_its_brackets_from_low_to_full_fidelity():
    hb = Hyperband(space=SPACE, fidelities=[EPOCHS], seed=0)
    firsts = {}
    for t in drive(hb, 400):
        firsts.setdefault(t.info.bracket, t.fidelities["epochs"])
    assert [firsts[b] for b in range(4)] == [1, 3, 9, 27]


def test_asha_promotes_as_soon_as_a_result_is_in_the_best_third():
    asha = ASHA(space=SPACE, fidelities=[EPOCHS], seed=0)
    trials = [asha.ask() for _ in range(3)]
    for t in trials:
        asha.tell(t.success(cost=loss(t)))
    promoted = asha.ask()
    assert promoted.fidelities["epochs"] == 3
    assert promoted.config == min(trials, key=loss).config
    assert asha.ask().fidelities["epochs"] == 1  # nothing else qualifies yet


def test_multi_fidelity_finds_better_configurations_than_their_first_rung():
    asha = ASHA(space=SPACE, fidelities=[EPOCHS], seed=1)
    trials = drive(asha, 200)
    top = [t for t in trials if t.fidelities["epochs"] == 27]
    assert top
    assert min(abs(t.config["x"] - 0.3) for t in top) < 0.05


def test_a_model_based_optimizer_chooses_the_configurations():
    inner = RandomSearch(space=SPACE, seed=5)
    asha = ASHA(space=SPACE, fidelities=[EPOCHS], optimizer=inner, seed=5)
    trials = drive(asha, 30)
    new = [t for t in trials if t.info.rung == 0]
    assert inner._pending.told == {f"rs-{i}" for i in range(len(new))}  # each told once


def test_an_exhausted_inner_optimizer_ends_the_search():
    inner = RandomSearch(space={"x": ["a", "b"]}, seed=0)
    asha = ASHA(space={"x": ["a", "b"]}, fidelities=[EPOCHS], optimizer=inner)
    asha.ask()
    asha.ask()
    with pytest.raises(OptimizerExhaustedError):
        asha.ask()


@pytest.mark.parametrize("cls", [SuccessiveHalving, Hyperband, ASHA])
def test_restore_goes_on_where_the_run_stopped(cls):
    earlier = cls(space=SPACE, fidelities=[EPOCHS], seed=3)
    reports = []
    for _ in range(40):
        trial = earlier.ask()
        report = trial.success(cost=loss(trial))
        earlier.tell(report)
        reports.append(loads(dumps(report), type(report)))  # as read back from a store
    later = cls(space=SPACE, fidelities=[EPOCHS], seed=3)
    later.restore(reports)
    assert later.results == earlier.results
    nxt, expected = later.ask(), earlier.ask()
    assert (nxt.name, nxt.config, nxt.fidelities) == (
        expected.name,
        expected.config,
        expected.fidelities,
    )
    with pytest.raises(UnknownTrialError, match="already told"):
        later.tell(reports[0])


def test_clear_errors():
    with pytest.raises(ValueError, match="exactly one fidelity"):
        ASHA(space=SPACE)
    with pytest.raises(ValueError, match="exactly one fidelity"):
        ASHA(space=SPACE, fidelities=[EPOCHS, Fidelity("frac", 0.1, 1.0)])
    with pytest.raises(TypeError, match="not both"):
        ASHA(space=SPACE, fidelities=[EPOCHS], sampler=object(), optimizer=object())
    asha = ASHA(space=SPACE, fidelities=[EPOCHS], metrics=["accuracy"])
    trial = asha.ask()
    with pytest.raises(KeyError, match="accuracy"):
        asha.tell(trial.success(cost=1.0))


def test_a_pruned_trial_is_never_promoted():
    asha = ASHA(space=SPACE, fidelities=[EPOCHS], seed=0)
    trials = [asha.ask() for _ in range(3)]
    best = min(trials, key=loss)
    best.report_progress(1, cost=0.0)  # it looked best, and was stopped all the same
    asha.tell(best.prune())
    for t in trials:
        if t is not best:
            asha.tell(t.success(cost=loss(t)))
    promoted = asha.ask()
    assert promoted.fidelities["epochs"] == 3
    assert promoted.config != best.config
