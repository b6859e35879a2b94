"""Pruners, reports of progress and pruned trials: the API, the conformance suite, optimize()."""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

import pytest

from byop.history import History, summary
from byop.optimization import (
    MedianPruner,
    Metric,
    PrunedReport,
    Report,
    ReportStatus,
    SuccessiveHalvingPruner,
    Trial,
    TrialAlreadyReportedError,
    TrialPruned,
    create_pruner,
)
from byop.plugins import UnknownFeatureError
from byop.run import optimize
from byop.serialization import structure, unstructure
from byop.testing import PrunerConformance


class TestMedian(PrunerConformance):
    pruner_name = "median"
    options: ClassVar[dict[str, Any]] = {"min_trials": 3}


class TestASHA(PrunerConformance):
    pruner_name = "asha"


class TestNone(PrunerConformance):
    pruner_name = "none"
    stops_bad_trials = False


# ---------------------------------------------------------------------- the trial's side
def test_report_progress_keeps_the_values_and_answers_false_when_nothing_listens():
    trial = Trial(name="t", config={})
    assert trial.report_progress(1, cost=0.5) is False
    assert trial.progress == (1, {"cost": 0.5}) and not trial.should_stop
    trial.raise_if_pruned()  # not told to stop: nothing raised


def test_the_link_answers_and_a_stopped_trial_is_not_asked_again():
    asked = []
    trial = Trial(name="t", config={})
    trial.listen(lambda t, step, values: asked.append(step) or step >= 2)
    assert [trial.report_progress(s, cost=1.0) for s in (1, 2, 3)] == [False, True, True]
    assert asked == [1, 2]
    with pytest.raises(TrialPruned, match="step 3"):
        trial.raise_if_pruned()
    report = trial.prune()
    assert isinstance(report, PrunedReport) and report.step == 3 and report["cost"] == 1.0
    assert report.status is ReportStatus.PRUNED


@pytest.mark.parametrize(
    ("step", "values", "match"),
    [
        ("1", {"cost": 1.0}, "step"),
        (float("nan"), {"cost": 1.0}, "step"),
        (True, {"cost": 1.0}, "step"),
        (1, {"cost": "low"}, "cost="),
        (1, {"cost": None}, "cost="),
        (1, {"cost": True}, "bool"),
    ],
)
def test_report_progress_refuses_what_is_not_a_number(step, values, match):
    with pytest.raises(TypeError, match=match):
        Trial(name="t", config={}).report_progress(step, **values)


def test_numpy_values_become_floats():
    np = pytest.importorskip("numpy")
    trial = Trial(name="t", config={})
    trial.report_progress(np.int64(2), cost=np.float32(0.5))
    _, values = trial.progress
    assert type(values["cost"]) is float


def test_no_progress_after_the_report():
    trial = Trial(name="t", config={})
    trial.success(cost=1.0)
    with pytest.raises(TrialAlreadyReportedError, match="before success"):
        trial.report_progress(1, cost=1.0)


def test_a_trial_pruned_without_progress_has_no_step():
    report = Trial(name="t", config={}).prune()
    assert report.results == {} and report.step is None


def test_trial_pruned_goes_through_begin():
    trial = Trial(name="t", config={})
    with pytest.raises(TrialPruned), trial.begin():
        raise TrialPruned("diverged")
    assert trial.exception is None


def test_a_pruned_report_pickles_and_serializes():
    trial = Trial(name="t", config={"x": 1})
    trial.report_progress(4, cost=0.25)
    report = trial.prune()
    assert pickle.loads(pickle.dumps(report)) == report
    back = structure(unstructure(report), Report)
    assert isinstance(back, PrunedReport) and back.step == 4 and back["cost"] == 0.25


def test_a_portable_link_travels_with_the_trial_and_a_local_one_does_not():
    trial = Trial(name="t", config={})
    trial.listen(lambda *a: True)
    assert pickle.loads(pickle.dumps(trial))._link is None


# ---------------------------------------------------------------------- pruners
def test_median_waits_for_min_trials_and_warmup():
    pruner = MedianPruner(min_trials=2, warmup_steps=2)
    t = [Trial(name=f"t{i}", config={}) for i in range(3)]
    assert not pruner.should_stop(t[0], 1, {"cost": 0.1})
    assert not pruner.should_stop(t[1], 1, {"cost": 0.2})
    assert not pruner.should_stop(t[2], 1, {"cost": 9.0})  # warm-up
    pruner.should_stop(t[0], 2, {"cost": 0.1})
    assert not pruner.should_stop(t[2], 2, {"cost": 9.0})  # one other trial only
    pruner.should_stop(t[1], 2, {"cost": 0.2})
    assert pruner.should_stop(t[2], 2, {"cost": 9.0})


def test_median_treats_nan_as_the_worst():
    pruner = MedianPruner(min_trials=1)
    pruner.should_stop(Trial(name="a", config={}), 1, {"cost": 1.0})
    assert pruner.should_stop(Trial(name="b", config={}), 1, {"cost": float("nan")})


def test_asha_rungs():
    pruner = SuccessiveHalvingPruner(min_step=1, eta=2)
    a, b, c = (Trial(name=n, config={}) for n in "abc")
    assert not pruner.should_stop(a, 1, {"cost": 0.5})
    assert not pruner.should_stop(b, 1, {"cost": 0.4})  # best at rung 1 so far
    assert pruner.should_stop(c, 1, {"cost": 0.45})  # second of 3: only 3 // 2 = 1 go on
    assert not pruner.should_stop(Trial(name="d", config={}), 1, {"cost": 0.1})  # best of 4
    assert pruner.should_stop(Trial(name="e", config={}), 1, {"cost": 0.42})  # third of 5
    assert not pruner.should_stop(b, 2, {"cost": 0.3})  # the first at rung 2
    assert not pruner.should_stop(b, 3, {"cost": 0.3})  # between rungs: no decision


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: MedianPruner(min_trials=0), ValueError, "min_trials"),
        (lambda: SuccessiveHalvingPruner(eta=1), ValueError, "eta"),
        (lambda: SuccessiveHalvingPruner(min_step=0), ValueError, "min_step"),
        (lambda: create_pruner("medain"), UnknownFeatureError, "median"),
        (lambda: create_pruner(42), TypeError, "pruner="),
        (lambda: create_pruner(MedianPruner(), warmup_steps=2), TypeError, "warmup_steps"),
    ],
)
def test_pruners_refuse_bad_settings(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ---------------------------------------------------------------------- optimize()
def curve(trial):
    x = trial.config["x"]
    for epoch in range(1, 8):
        if trial.report_progress(epoch, cost=(x - 1) ** 2 + 1 / epoch):
            return trial.prune()
    return trial.success(cost=(x - 1) ** 2 + 1 / 7)


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes"])
def test_optimize_prunes_stores_and_resumes(backend, tmp_path):
    store = tmp_path / "run.jsonl"
    common = {"seed": 0, "backend": backend, "n_workers": 2, "store": store, "progress": "off"}
    history = optimize(curve, {"x": (-5.0, 5.0)}, max_trials=20, pruner="median", **common)
    counts = history.counts()
    assert counts[ReportStatus.PRUNED] > 0 and counts[ReportStatus.SUCCESS] > 0
    pruned = history.filter("pruned")
    assert all(isinstance(r, PrunedReport) and r.step >= 1 and "cost" in r.results for r in pruned)
    assert history.best().status is ReportStatus.SUCCESS
    text = summary(history)
    assert f"pruned  {counts[ReportStatus.PRUNED]:>6}" in text.replace("pruned   ", "pruned  ")
    resumed = optimize(curve, {"x": (-5.0, 5.0)}, max_trials=30, pruner="median", **common)
    assert len(resumed) == 30
    assert [r.trial.name for r in resumed.filter("pruned")][: len(pruned)] == [
        r.trial.name for r in pruned
    ]


def test_an_optimizer_with_should_stop_is_asked():
    from byop.optimization import RandomSearch

    class Stopping(RandomSearch):
        def should_stop(self, trial, step, values):
            return step >= 3

    history = optimize(
        curve,
        {"x": (-5.0, 5.0)},
        optimizer=Stopping(space={"x": (-5.0, 5.0)}, seed=0),
        max_trials=5,
        backend="threads",
        progress="off",
    )
    assert [r.step for r in history] == [3] * 5


def test_optimize_refuses_a_bad_pruner():
    with pytest.raises(TypeError, match="pruner="):
        optimize(curve, {"x": (0.0, 1.0)}, max_trials=1, pruner=3, progress="off")
    with pytest.raises(UnknownFeatureError, match="median"):
        optimize(curve, {"x": (0.0, 1.0)}, max_trials=1, pruner="meidan", progress="off")


def test_a_pruner_missing_its_metric_ends_the_run_with_a_clear_error():
    with pytest.raises(KeyError, match="'loss'"):
        optimize(
            curve,
            {"x": (0.0, 1.0)},
            max_trials=3,
            backend="sequential",
            progress="off",
            pruner=MedianPruner(Metric("loss")),
        )


def test_history_and_summary_with_pruned_reports():
    trial = Trial(name="p", config={})
    trial.report_progress(2, cost=0.1)
    history = History([trial.prune(), Trial(name="s", config={}).success(cost=0.5)])
    assert history.best().trial.name == "s"  # a pruned trial never ranks
    assert "pruned" in summary(history)
    assert "pruned" not in summary(History([Trial(name="s", config={}).success(cost=0.5)]))


class Counting:
    def __init__(self):
        self.judged: list[tuple[str, float]] = []
        self.told: list[str] = []

    def should_stop(self, trial, step, values):
        self.judged.append((trial.name, step))
        return False

    def tell(self, report):
        self.told.append(report.trial.name)


def test_a_resumed_run_gives_its_pruner_the_earlier_trials_progress(tmp_path):
    store = tmp_path / "run.jsonl"
    common = {"seed": 0, "backend": "threads", "store": store, "progress": "off"}
    first = Counting()
    optimize(curve, {"x": (-5.0, 5.0)}, max_trials=4, pruner=first, **common)
    assert len(first.judged) == 4 * 7 and len(first.told) == 4
    again = Counting()
    optimize(curve, {"x": (-5.0, 5.0)}, max_trials=4, pruner=again, **common)
    assert again.judged == first.judged and again.told == first.told
    from byop.history import read_store

    assert sorted(read_store(store).progress) == sorted(first.told)
