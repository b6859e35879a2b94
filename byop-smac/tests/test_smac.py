"""SMACOptimizer. One module, so that SMAC (slow to import) is imported once per test run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from smac import HyperparameterOptimizationFacade, Scenario
from smac.runhistory import StatusType, TrialInfo, TrialValue

from byop.configspace import to_configspace
from byop.optimization import Metric, Report, Trial, UnknownTrialError, create_optimizer
from byop.pipeline import Categorical, Float, Integer, Space
from byop.serialization import dumps, loads
from byop.smac import SMACOptimizer
from byop.testing import ConditionalSpaceConformance, OptimizerConformance, cost_of

SPACE = Space(
    [
        Float(-5.0, 5.0, name="x"),
        Float(1e-3, 1.0, log=True, name="lr"),
        Integer(1, 32, name="n"),
        Categorical(["a", "b", "c"], name="kind"),
    ]
)


class TestSMACConformance(OptimizerConformance, ConditionalSpaceConformance):
    optimizer_name = "smac"


class TestSMACMultiFidelityConformance(OptimizerConformance, ConditionalSpaceConformance):
    def create(self, *, space, seed, **kwargs):
        return SMACOptimizer.create(space=space, seed=seed, min_budget=1, max_budget=9, **kwargs)


class TestSMACRandomConformance(OptimizerConformance, ConditionalSpaceConformance):
    def create(self, *, space, seed, **kwargs):
        return SMACOptimizer.create(space=space, seed=seed, facade="random", **kwargs)


def statuses(optimizer):
    rh = optimizer.facade.runhistory
    return [(v.status, v.cost) for v in rh.values()]


def test_same_proposals_as_the_native_ask_and_tell_loop_with_the_hpo_facade(tmp_path):
    scenario = Scenario(
        to_configspace(SPACE),
        deterministic=True,
        n_trials=20,
        seed=7,
        output_directory=tmp_path / "native",
    )
    facade = HyperparameterOptimizationFacade(scenario, None, overwrite=True, logging_level=False)
    native = []
    for _ in range(20):
        info = facade.ask()
        config = dict(info.config)
        native.append({k: config[k] for k in SPACE.names})
        facade.tell(info, TrialValue(cost=cost_of(config)))

    optimizer = create_optimizer("smac", space=SPACE, seed=7, n_trials=20)
    ours = []
    for _ in range(20):
        trial = optimizer.ask()
        ours.append(dict(trial.config))
        optimizer.tell(trial.success(cost=cost_of(trial.config)))

    assert ours == native
    origins = [c.origin for c in optimizer.facade.runhistory.config_ids]
    assert any(o and o.startswith("Acquisition") for o in origins), "the model proposed some"


def test_tell_maps_reports_to_statuses_and_costs():
    optimizer = SMACOptimizer.create(space=SPACE, seed=1, crash_cost=1000.0)
    trials = [optimizer.ask() for _ in range(6)]
    optimizer.tell(trials[0].success(cost=0.5))
    optimizer.tell(trials[1].fail(cost=3.0))
    optimizer.tell(trials[2].fail())
    optimizer.tell(trials[3].crashed(RuntimeError("died")))
    try:
        raise MemoryError("memory limit")
    except MemoryError as e:
        optimizer.tell(trials[4].crashed(e))
    optimizer.tell(trials[5].crashed(TimeoutError("wall-time limit")))
    assert statuses(optimizer) == [
        (StatusType.SUCCESS, 0.5),
        (StatusType.CRASHED, 3.0),
        (StatusType.CRASHED, 1000.0),
        (StatusType.CRASHED, 1000.0),
        (StatusType.MEMORYOUT, 1000.0),
        (StatusType.TIMEOUT, 1000.0),
    ]
    values = list(optimizer.facade.runhistory.values())
    assert values[3].additional_info["error"] == "RuntimeError: died"
    assert "MemoryError: memory limit" in values[4].additional_info["traceback"]


def test_a_pruned_trial_is_told_the_cost_of_its_last_values():
    optimizer = SMACOptimizer.create(space=SPACE, seed=1, crash_cost=1000.0)
    reached, silent = optimizer.ask(), optimizer.ask()
    reached.report_progress(3, cost=0.8)
    optimizer.tell(reached.prune())
    optimizer.tell(silent.prune())  # it reported nothing
    assert statuses(optimizer) == [(StatusType.SUCCESS, 0.8), (StatusType.CRASHED, 1000.0)]
    first = next(iter(optimizer.facade.runhistory.values()))
    assert first.additional_info["pruned_at_step"] == 3


def test_limit_errors_are_told_by_their_builtin_category():
    class MemoryLimitExceeded(MemoryError):
        pass

    class WallTimeLimitExceeded(TimeoutError):
        pass

    optimizer = SMACOptimizer.create(space=SPACE, seed=1)
    a, b = optimizer.ask(), optimizer.ask()
    optimizer.tell(a.crashed(MemoryLimitExceeded("over 100 MB")))
    optimizer.tell(b.crashed(WallTimeLimitExceeded("over 2 s")))
    assert [s for s, _ in statuses(optimizer)] == [StatusType.MEMORYOUT, StatusType.TIMEOUT]


def test_metrics_are_costs_and_maximised_ones_are_negated():
    metrics = [Metric("accuracy", minimize=False), Metric("seconds")]
    optimizer = create_optimizer("smac", space=SPACE, seed=2, metrics=metrics)
    assert optimizer.facade.scenario.objectives == ["accuracy", "seconds"]
    trial = optimizer.ask()
    optimizer.tell(trial.success(accuracy=0.9, seconds=2.0))
    assert statuses(optimizer) == [(StatusType.SUCCESS, [-0.9, 2.0])]
    crashed = optimizer.ask()
    optimizer.tell(crashed.crashed(RuntimeError("x")))
    assert statuses(optimizer)[1] == (StatusType.CRASHED, [float("inf"), float("inf")])


def test_multi_fidelity_trials_carry_their_budget():
    optimizer = create_optimizer("smac", space=SPACE, seed=3, min_budget=1, max_budget=27)
    assert type(optimizer.facade).__name__ == "MultiFidelityFacade"
    budgets = []
    for _ in range(12):
        trial = optimizer.ask()
        assert trial.budget == trial.info.budget
        assert trial.name.endswith(f"-b{trial.budget:g}")
        budgets.append(trial.budget)
        optimizer.tell(trial.success(cost=cost_of(trial.config) / trial.budget))
    assert min(budgets) == 1.0
    assert all(1.0 <= b <= 27.0 for b in budgets)


def test_facades_by_name_and_their_errors():
    for name, cls in [("random", "RandomFacade"), ("hyperband", "HyperbandFacade")]:
        kwargs = {"min_budget": 1, "max_budget": 3} if name == "hyperband" else {}
        optimizer = SMACOptimizer.create(space=SPACE, seed=1, facade=name, **kwargs)
        assert type(optimizer.facade).__name__ == cls
    with pytest.raises(ValueError, match="Unknown SMAC facade 'bo'"):
        SMACOptimizer.create(space=SPACE, seed=1, facade="bo")
    with pytest.raises(ValueError, match="needs min_budget= and max_budget="):
        SMACOptimizer.create(space=SPACE, seed=1, facade="multi_fidelity")


def test_output_goes_where_the_user_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "runs" / "smac"
    optimizer = SMACOptimizer.create(space=SPACE, seed=4, output_directory=target, name="demo")
    trial = optimizer.ask()
    optimizer.tell(trial.success(cost=1.0))
    assert optimizer.output_directory == target / "demo" / "4"
    assert (target / "demo" / "4" / "runhistory.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_by_default_output_goes_to_a_temporary_directory_that_is_removed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    optimizer = SMACOptimizer.create(space=SPACE, seed=5)
    trial = optimizer.ask()
    optimizer.tell(trial.success(cost=1.0))
    directory = optimizer.output_directory
    assert directory.exists()
    assert Path(tempfile.gettempdir()) in directory.parents
    assert list(tmp_path.iterdir()) == [], "nothing written in the working directory"
    optimizer.close()
    assert not directory.exists()
    del optimizer  # collecting the optimizer also removes a directory
    again = SMACOptimizer.create(space=SPACE, seed=5)
    path = again.output_directory
    del again
    assert not path.exists()


def test_wrapping_a_facade_built_by_the_user(tmp_path):
    scenario = Scenario(
        to_configspace(SPACE), objectives=["loss", "size"], output_directory=tmp_path, seed=1
    )
    facade = HyperparameterOptimizationFacade(scenario, None, overwrite=True, logging_level=False)
    optimizer = SMACOptimizer(facade=facade)
    assert [m.name for m in optimizer.metrics] == ["loss", "size"]
    trial = optimizer.ask()
    assert isinstance(trial.info, TrialInfo)
    assert not optimizer._deterministic
    assert f"-s{trial.seed}" in trial.name  # the seed matters when it is not deterministic
    optimizer.tell(trial.success(loss=1.0, size=2.0))
    with pytest.raises(ValueError, match="1 metrics declared but the scenario has 2 objectives"):
        SMACOptimizer(facade=facade, metrics="cost")


def test_restore_warm_starts_the_run_history():
    earlier = SMACOptimizer.create(space=SPACE, seed=6)
    reports = []
    for _ in range(4):
        trial = earlier.ask()
        report = trial.success(cost=cost_of(trial.config))
        earlier.tell(report)
        reports.append(report)
    stored = [loads(dumps(r), Report) for r in reports]
    assert isinstance(stored[0].trial.info, dict)  # SMAC's TrialInfo is stored as data

    later = SMACOptimizer.create(space=SPACE, seed=6)
    later.restore(stored)
    rh = later.facade.runhistory
    assert len(rh) == 4
    assert [dict(c) for c in rh.config_ids] == [dict(r.trial.info.config) for r in reports]
    assert [v.cost for v in rh.values()] == [r["cost"] for r in reports]
    new = later.ask()
    assert new.name not in {r.trial.name for r in reports}
    with pytest.raises(UnknownTrialError, match="not asked of this SMACOptimizer but of another"):
        later.tell(reports[0])
    bad = Trial(name="out-of-range", config={"x": 70.0}).success(cost=1.0)
    with pytest.raises(ValueError, match="Cannot restore trial 'out-of-range'"):
        later.restore([bad])


def test_restore_into_multi_fidelity_uses_the_largest_budget_when_none_was_given():
    optimizer = SMACOptimizer.create(space=SPACE, seed=6, min_budget=1, max_budget=9)
    config = {"x": 1.0, "lr": 0.1, "n": 3, "kind": "a"}
    optimizer.restore([Trial(name="from-elsewhere", config=config).success(cost=0.1)])
    (key,) = optimizer.facade.runhistory
    assert key.budget == 9


def test_loading_the_plugin_does_not_import_smac():
    code = (
        "import sys\n"
        "from byop.plugins import available\n"
        "assert 'smac' in available('optimizers')\n"
        "import byop.smac\n"
        "assert 'smac' not in sys.modules, 'smac was imported'\n"
        "assert 'ConfigSpace' not in sys.modules, 'ConfigSpace was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ | {"PYTHONPATH": ""})
