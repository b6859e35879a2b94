"""Mistakes in what an objective reports are caught early, and never break a store."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from byop.history import read_store
from byop.optimization import (
    InvalidMetricValueError,
    InvalidReportError,
    MissingMetricError,
    Trial,
)
from byop.run import optimize

SPACE = {"x": (-5.0, 5.0)}


def returns_number(trial: Trial[Any]) -> float:
    return float((trial.config["x"] - 1.0) ** 2)


def returns_dict(trial: Trial[Any]) -> dict[str, float]:
    x = trial.config["x"]
    return {"accuracy": 1.0 / (1.0 + x * x), "latency": abs(x)}


def nan_above_zero(trial: Trial[Any]) -> Any:
    x = trial.config["x"]
    return trial.success(cost=math.nan if x > 0 else x * x)


def reports_loss(trial: Trial[Any]) -> Any:
    return trial.success(loss=1.0)


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes"])
def test_an_objective_may_return_a_number(backend):
    history = optimize(
        returns_number,
        SPACE,
        seed=0,
        backend=backend,
        max_trials=4,
        progress="off",
        metrics={"loss": "min"},
    )
    assert len(history) == 4
    assert all(r.status.value == "success" for r in history)
    assert all(set(r.results) == {"loss"} for r in history)


def test_an_objective_may_return_a_dictionary():
    history = optimize(
        returns_dict,
        SPACE,
        seed=0,
        backend="threads",
        max_trials=5,
        progress="off",
        metrics={"accuracy": "max", "latency": "min"},
    )
    assert len(history) == 5
    assert all(r.status.value == "success" for r in history)
    assert history.pareto_front()


def test_a_number_with_several_metrics_is_a_crash_that_says_to_return_a_dictionary():
    history = optimize(
        returns_number,
        SPACE,
        seed=0,
        backend="threads",
        max_trials=2,
        progress="off",
        metrics={"accuracy": "max", "latency": "min"},
    )
    report = history.reports[0]
    assert report.status.value == "crashed"
    assert isinstance(report.exception, InvalidReportError)
    assert "return a dictionary" in str(report.exception)


def test_a_metric_missing_from_the_first_success_stops_the_run_at_once(tmp_path):
    store = tmp_path / "run.jsonl"
    with pytest.raises(MissingMetricError) as caught:
        optimize(
            reports_loss,
            SPACE,
            seed=0,
            backend="threads",
            max_trials=50,
            progress="off",
            metrics={"accuracy": "max"},
            store=store,
        )
    assert caught.value.metric == "accuracy"
    assert caught.value.reported == ("loss",)
    assert "'accuracy'" in str(caught.value) and "'loss'" in str(caught.value)
    assert len(read_store(store).reports) == 0  # not stored: a resume runs it again


@pytest.mark.parametrize("bad", [math.nan, math.inf, "0.5", None])
def test_a_value_that_is_not_a_finite_number_fails_the_trial(bad):
    def objective(trial):
        return trial.success(cost=bad if trial.name.endswith("1") else 1.0)

    history = optimize(objective, SPACE, seed=0, backend="threads", max_trials=4, progress="off")
    assert len(history) == 4
    failed = [r for r in history if r.status.value == "fail"]
    assert [r.trial.name for r in failed] == ["rs-1"]
    assert isinstance(failed[0].exception, InvalidMetricValueError)
    assert "cost=" in str(failed[0].exception)
    assert history.best()["cost"] == 1.0


def test_an_optuna_run_with_nan_trials_resumes(tmp_path):
    pytest.importorskip("optuna")
    store = tmp_path / "optuna.jsonl"
    first = optimize(
        nan_above_zero,
        SPACE,
        optimizer="optuna",
        seed=1,
        backend="threads",
        max_trials=12,
        progress="off",
        store=store,
    )
    assert len(first) == 12
    failed = [r for r in first if r.status.value == "fail"]
    assert failed, "some x > 0 was tried"
    assert all(isinstance(r.exception, InvalidMetricValueError) for r in failed)
    resumed = optimize(
        nan_above_zero,
        SPACE,
        optimizer="optuna",
        backend="threads",
        max_trials=20,
        progress="off",
        store=store,
    )
    assert len(resumed) == 20
    assert math.isfinite(resumed.best()["cost"])


def test_a_store_with_a_nan_success_written_before_the_checks_resumes(tmp_path):
    """Older byop stored NaN successes; they are restored as failures."""
    pytest.importorskip("optuna")
    store = tmp_path / "old.jsonl"
    optimize(
        nan_above_zero,
        SPACE,
        optimizer="optuna",
        seed=2,
        backend="threads",
        max_trials=8,
        progress="off",
        store=store,
    )
    lines = store.read_text().splitlines()
    rewritten = []
    for line in lines:  # make the failures what older byop wrote: NaN successes
        record = json.loads(line)
        if record["kind"] == "report" and record["report"]["status"] == "fail":
            record["report"].update(status="success", exception=None, traceback=None)
        rewritten.append(json.dumps(record))
    store.write_text("\n".join(rewritten) + "\n")
    assert any(
        r.status.value == "success" and math.isnan(r["cost"]) for r in read_store(store).reports
    )
    history = optimize(
        nan_above_zero,
        SPACE,
        optimizer="optuna",
        backend="threads",
        max_trials=12,
        progress="off",
        store=store,
    )
    assert len(history) == 12
    assert all(math.isfinite(r["cost"]) for r in history if r.status.value == "success")
