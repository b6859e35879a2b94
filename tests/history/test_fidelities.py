"""`optimize(..., fidelities=...)`: declared once, given to every optimizer."""

from __future__ import annotations

from typing import Any

import pytest

from byop.history import StoreMismatchError, read_store
from byop.optimization import Fidelity, Trial, create_optimizer
from byop.run import optimize

SPACE = {"x": (-5.0, 5.0)}
EPOCHS = Fidelity("epochs", 1, 27, integer=True)


def by_epochs(trial: Trial[Any]) -> Any:
    x, epochs = trial.config["x"], trial.fidelities["epochs"]
    assert trial.budget == epochs
    return trial.success(cost=(x - 1.0) ** 2 + 1.0 / epochs, epochs=epochs)


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_random_search_evaluates_at_the_maximum(backend):
    history = optimize(
        by_epochs,
        SPACE,
        seed=0,
        backend=backend,
        max_trials=4,
        progress="off",
        fidelities=EPOCHS,
    )
    assert [r["epochs"] for r in history] == [27.0] * 4


@pytest.mark.parametrize("optimizer", ["hyperband", "asha", "successive_halving"])
def test_multi_fidelity_optimizers_vary_the_declared_fidelity(optimizer):
    history = optimize(
        by_epochs,
        SPACE,
        optimizer=optimizer,
        seed=0,
        backend="threads",
        n_workers=2,
        max_trials=30,
        progress="off",
        fidelities={"epochs": (1, 27)},
    )
    used = {r["epochs"] for r in history}
    assert 1.0 in used and len(used) >= 2


def test_a_multi_fidelity_optimizer_without_a_fidelity_says_how_to_declare_one():
    with pytest.raises(ValueError, match="fidelities="):
        optimize(by_epochs, SPACE, optimizer="hyperband", max_trials=2, progress="off")


def test_the_fidelities_are_stored_and_a_resume_with_others_is_refused(tmp_path):
    store = tmp_path / "run.jsonl"
    optimize(
        by_epochs,
        SPACE,
        seed=0,
        backend="threads",
        max_trials=2,
        progress="off",
        fidelities=EPOCHS,
        store=store,
    )
    assert read_store(store).header.fidelities == (EPOCHS,)
    history = optimize(
        by_epochs,
        SPACE,
        backend="threads",
        max_trials=3,
        progress="off",
        fidelities=EPOCHS,
        store=store,
    )
    assert len(history) == 3
    with pytest.raises(StoreMismatchError, match="fidelities"):
        optimize(
            by_epochs,
            SPACE,
            backend="threads",
            max_trials=4,
            progress="off",
            fidelities=Fidelity("epochs", 1, 9),
            store=store,
        )


def test_a_store_written_before_the_run_limits_were_renamed_resumes(tmp_path):
    store = tmp_path / "old.jsonl"
    optimize(
        by_epochs,
        SPACE,
        seed=0,
        backend="threads",
        max_trials=2,
        progress="off",
        fidelities=EPOCHS,
        store=store,
    )
    text = store.read_text().replace('"limits":', '"budget":').replace('"fidelities":[{', '"x":[{')
    store.write_text(text)
    old = read_store(store)
    assert old.header.limits.max_trials == 2 and old.sessions[0].limits.max_trials == 2
    assert old.header.fidelities == ()
    history = optimize(
        by_epochs, SPACE, backend="threads", max_trials=3, progress="off", store=store
    )
    assert len(history) == 3


def test_optuna_evaluates_at_the_maximum():
    pytest.importorskip("optuna")
    optimizer = create_optimizer("optuna", space=SPACE, seed=0, fidelities=[EPOCHS])
    trial = optimizer.ask()
    assert trial.fidelities == {"epochs": 27.0} and trial.budget == 27.0


def test_smac_takes_its_budgets_from_the_declared_fidelity():
    pytest.importorskip("smac")
    optimizer = create_optimizer("smac", space=SPACE, seed=0, fidelities=[EPOCHS])
    try:
        assert type(optimizer.facade).__name__ == "MultiFidelityFacade"
        assert (
            optimizer.facade.scenario.min_budget == 1 and optimizer.facade.scenario.max_budget == 27
        )
        trial = optimizer.ask()
        assert trial.fidelities == {"epochs": trial.budget}
        assert 1 <= trial.budget <= 27
    finally:
        optimizer.close()


def test_smac_is_told_a_bounded_metric_s_worst_value_for_a_crash():
    pytest.importorskip("smac")
    from byop.optimization import Metric

    optimizer = create_optimizer(
        "smac", space=SPACE, seed=0, metrics=[Metric("latency", bounds=(0, 10))]
    )
    try:
        assert optimizer.facade.scenario.crash_cost == 10.0
    finally:
        optimizer.close()


def test_an_optimizer_object_s_trials_get_the_declared_fidelities_at_their_maximum():
    from byop.optimization import RandomSearch

    history = optimize(
        by_epochs,
        SPACE,
        optimizer=RandomSearch(space=SPACE, seed=0),  # not told the fidelities
        backend="threads",
        max_trials=3,
        progress="off",
        fidelities=EPOCHS,
    )
    assert [r["epochs"] for r in history] == [27.0] * 3


def test_smac_multi_fidelity_through_optimize():
    pytest.importorskip("smac")
    history = optimize(
        by_epochs,
        SPACE,
        optimizer="smac",
        seed=0,
        backend="threads",
        max_trials=12,
        progress="off",
        fidelities=Fidelity("epochs", 1, 9, integer=True),
    )
    used = {r["epochs"] for r in history}
    assert used <= {1.0, 3.0, 9.0} and len(used) >= 2
