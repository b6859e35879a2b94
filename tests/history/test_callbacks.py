"""`optimize(callbacks=..., stop_when=...)`: hooks on each report, and early stopping."""

from __future__ import annotations

import logging

import pytest
from support import history_objectives as objectives

from byop.history import read_store
from byop.optimization import Metric
from byop.pipeline import searchable
from byop.run import Callback, NoRunLimitsError, RunEnd, optimize
from byop.scheduling import MaxTrials, NoImprovement, TargetCost, Timeout

SPACE = searchable("s", space={"x": (-5.0, 5.0)}).space()


def run(**kwargs):
    kwargs.setdefault("seed", 0)
    kwargs.setdefault("backend", "threads")
    kwargs.setdefault("n_workers", 2)
    kwargs.setdefault("progress", "off")
    objective = kwargs.pop("objective", objectives.quadratic)
    return optimize(objective, SPACE, **kwargs)


class Recorder(Callback):
    def __init__(self, store=None):
        self.names: list[str] = []
        self.ends: list[RunEnd] = []
        self.store = store
        self.stored_before: list[bool] = []

    def on_report(self, report):
        self.names.append(report.trial.name)
        if self.store is not None:
            stored = {r.trial.name for r in read_store(self.store).reports}
            self.stored_before.append(report.trial.name in stored)

    def on_end(self, end):
        self.ends.append(end)


def test_callbacks_get_every_report_in_order_then_the_end(tmp_path):
    store = tmp_path / "run.jsonl"
    seen = []
    recorder = Recorder(store)
    history = run(max_trials=12, store=store, callbacks=[seen.append, recorder])
    assert [r.trial.name for r in seen] == [r.trial.name for r in history] == recorder.names
    assert all(recorder.stored_before)  # the report was stored before the callback saw it
    (end,) = recorder.ends
    assert end.status == "exhausted" and end.history is history and end.store == store


def test_print_is_a_callback(capsys):
    run(max_trials=3, callbacks=print)
    assert capsys.readouterr().out.count("SuccessReport") == 3


def test_a_failing_callback_is_named_and_the_run_goes_on(caplog):
    calls = []

    def broken(report):
        calls.append(report)
        raise ValueError("tracker is down")

    history = run(max_trials=6, callbacks=[broken], progress="lines")
    assert len(history) == 6 and len(calls) == 6
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the first, with its traceback; the others are counted
    assert "callback broken raised ValueError on trial" in warnings[0].getMessage()
    assert "tracker is down" in caplog.text
    (summary,) = [r.getMessage() for r in caplog.records if r.name == "byop.progress"][-1:]
    assert "callback errors" in summary and "raised ValueError x6" in summary


def test_a_failing_end_callback_does_not_lose_the_run(tmp_path, caplog):
    class BadEnd(Callback):
        def on_end(self, end):
            raise RuntimeError("upload failed")

    store = tmp_path / "run.jsonl"
    with caplog.at_level(logging.WARNING, logger="byop"):
        history = run(max_trials=4, store=store, callbacks=[BadEnd()])
    assert len(history) == 4
    assert "BadEnd.on_end" in caplog.text
    assert read_store(store).sessions[-1].exit_status == "exhausted"


@pytest.mark.parametrize("bad", [3, "print", [print, 3]])
def test_bad_callbacks_are_refused(bad):
    with pytest.raises(TypeError, match="callback"):
        run(max_trials=2, callbacks=bad)


def test_no_improvement_stops_before_the_budget(tmp_path):
    store = tmp_path / "run.jsonl"
    recorder = Recorder()
    history = run(
        max_trials=500, n_workers=1, store=store, stop_when=NoImprovement(5), callbacks=[recorder]
    )
    assert len(history) < 500
    costs = [r["cost"] for r in history]
    best_at = costs.index(min(costs))
    assert len(costs) == best_at + 1 + 5  # five reports in a row without a better cost
    assert recorder.ends[0].status == "stopped"
    assert "NoImprovement(5)" in (recorder.ends[0].reason or "")
    assert read_store(store).sessions[-1].exit_status == "stopped"


def test_target_cost_stop_and_no_budget_needed():
    history = run(n_workers=1, stop_when=TargetCost(0.5))
    assert history.best()["cost"] <= 0.5
    assert all(r["cost"] > 0.5 for r in list(history)[:-1])


def test_a_function_count_and_time_are_criteria():
    history = run(n_workers=1, stop_when=lambda report: report["cost"] < 1.0)
    assert list(history)[-1]["cost"] < 1.0
    assert len(run(n_workers=1, stop_when=[MaxTrials(7), TargetCost(-1.0)])) == 7
    timed = run(n_workers=1, max_trials=10_000, stop_when=Timeout(0.2), objective=objectives.slow)
    assert 0 < len(timed) < 10_000


def test_a_criterion_given_twice_starts_afresh():
    criterion = MaxTrials(4)
    assert len(run(n_workers=1, stop_when=criterion)) == 4
    assert len(run(n_workers=1, stop_when=criterion)) == 4


def test_a_resumed_run_feeds_the_stored_reports_to_the_criterion(tmp_path):
    store = tmp_path / "run.jsonl"
    first = run(max_trials=40, n_workers=1, store=store)
    best = first.best()["cost"]
    again = run(max_trials=80, n_workers=1, store=store, stop_when=TargetCost(best))
    assert len(again) == 40  # met by the stored reports: nothing more is run
    assert read_store(store).sessions[-1].exit_status == "stopped"


def test_criteria_on_other_metrics_are_refused():
    with pytest.raises(ValueError, match="does not report"):
        run(max_trials=5, stop_when=NoImprovement(5, metric="accuracy"))
    with pytest.raises(ValueError, match="minimize=False"):
        run(
            max_trials=5,
            metrics=Metric("accuracy", minimize=False),
            stop_when=NoImprovement(5, metric="accuracy"),
        )
    with pytest.raises(TypeError, match="stop_when takes"):
        run(max_trials=5, stop_when=5)
    with pytest.raises(NoRunLimitsError, match="stop_when="):
        run(stop_when=[])


def test_a_criterion_that_raises_stops_the_run_cleanly(tmp_path, caplog):
    def broken(report):
        raise KeyError("oops")

    store = tmp_path / "run.jsonl"
    with caplog.at_level(logging.ERROR, logger="byop"):
        history = run(max_trials=20, n_workers=1, store=store, stop_when=broken)
    assert len(history) == 1
    assert "stop criterion Predicate(" in caplog.text and "KeyError" in caplog.text
    assert read_store(store).sessions[-1].exit_status == "stopped"
