from __future__ import annotations

import math

import pytest

from byop.history import DuplicateReportError, History, NoBestTrialError
from byop.optimization import Metric, ReportStatus, TimeInterval, TimeKind, Trial
from byop.optimization._report import CrashReport, FailReport, SuccessReport


def report(name, status="success", *, start=0.0, end=1.0, config=None, exc=None, **results):
    trial = Trial(name=name, config=config if config is not None else {"x": 1.0})
    wall = TimeInterval(start, end, end - start, TimeKind.WALL)
    cpu = TimeInterval(0.0, 0.5, 0.5, TimeKind.CPU)
    cls = {"success": SuccessReport, "fail": FailReport, "crashed": CrashReport}[status]
    return cls(trial, results, wall, cpu, exc, None if exc is None else "Traceback...")


def sample():
    return History(
        [
            report("a", start=0, end=2, cost=5.0, acc=0.5),
            report("b", "fail", start=1, end=3, cost=0.1, exc=ValueError("bad")),
            report("c", start=2, end=4, cost=3.0, acc=0.9),
            report("d", "crashed", start=3, end=5, exc=MemoryError("oom")),
            report("e", start=4, end=6, cost=3.0, acc=0.7),
            report("f", start=5, end=7, cost=float("nan")),
        ]
    )


def test_add_iterate_len_and_lookup():
    history = sample()
    assert len(history) == 6
    assert history.names() == ["a", "b", "c", "d", "e", "f"]
    assert [r.trial.name for r in history] == history.names()
    assert history["c"]["cost"] == 3.0 and history[0].trial.name == "a"
    assert "c" in history and "z" not in history and history["c"] in history
    with pytest.raises(KeyError, match="No trial named 'z'"):
        history["z"]
    assert repr(history) == "History(6 reports: success=4, fail=1, crashed=1)"


def test_a_trial_is_reported_once():
    history = sample()
    with pytest.raises(DuplicateReportError, match="already has a success report of trial 'a'"):
        history.add(report("a", cost=0.0))
    assert len(history) == 6
    with pytest.raises(TypeError, match="History holds reports"):
        history.add({"cost": 1})


def test_best_uses_successes_only_and_the_earliest_of_ties():
    history = sample()
    assert history.best().trial.name == "c"  # b's lower cost failed; f's is NaN
    assert history.best("acc").trial.name == "a"  # an undeclared name is minimised
    assert history.best(Metric("acc", minimize=False)).trial.name == "c"
    declared = History(history, metrics=[Metric("acc", minimize=False), "cost"])
    assert declared.best("acc").trial.name == "c"  # a declared name keeps its direction
    assert declared.best("cost").trial.name == "c"


def test_no_best_says_why():
    history = History([report("b", "fail", cost=1.0), report("d", "crashed")])
    with pytest.raises(NoBestTrialError, match="No successful trial .*'cost' .*1 fail, 1 crashed"):
        history.best()
    with pytest.raises(NoBestTrialError, match="no reports"):
        History().best()


def test_counts_and_filters():
    history = sample()
    assert history.counts() == {
        ReportStatus.SUCCESS: 4,
        ReportStatus.FAIL: 1,
        ReportStatus.CRASHED: 1,
        ReportStatus.PRUNED: 0,
    }
    assert history.filter("success").names() == ["a", "c", "e", "f"]
    assert history.filter(["fail", ReportStatus.CRASHED]).names() == ["b", "d"]
    assert history.filter(where=lambda r: r.results.get("cost", 9) < 4).names() == ["b", "c", "e"]
    assert history.filter("success", where=lambda r: "acc" in r.results).names() == ["a", "c", "e"]
    with pytest.raises(ValueError, match="Unknown status 'won'"):
        history.filter("won")


def test_trace_is_best_so_far_in_order_of_completion():
    history = History(
        [
            report("slow", start=0, end=10, cost=1.0),
            report("fast", start=1, end=2, cost=4.0),
            report("broken", "crashed", start=2, end=3),
            report("mid", start=3, end=5, cost=2.0),
        ]
    )
    trace = history.trace()
    assert [p.name for p in trace] == ["fast", "broken", "mid", "slow"]
    assert [p.number for p in trace] == [1, 2, 3, 4]
    assert [p.elapsed for p in trace] == [2.0, 3.0, 5.0, 10.0]
    assert [p.value for p in trace] == [4.0, None, 2.0, 1.0]
    assert [p.best for p in trace] == [4.0, 4.0, 2.0, 1.0]
    assert [p.best_name for p in trace] == ["fast", "fast", "mid", "slow"]
    assert History().trace() == []
    maximised = history.trace(Metric("cost", minimize=False))
    assert [p.best for p in maximised] == [4.0, 4.0, 4.0, 4.0]


def test_records_are_flat_rows_with_every_column():
    history = History(
        [
            report("a", config={"x": 1.0, "step:c": "u"}, cost=1.0),
            report("b", "fail", config={"x": 2.0, "y": 3}, exc=ValueError("bad")),
        ]
    )
    rows = history.records()
    assert (
        list(rows[0])
        == list(rows[1])
        == [
            "name",
            "status",
            "seed",
            "budget",
            "config:x",
            "config:step:c",
            "config:y",
            "results:cost",
            "time:start",
            "time:end",
            "time:duration",
            "cpu_time:duration",
            "exception",
            "exception:message",
        ]
    )
    assert rows[0]["config:y"] is None and rows[1]["config:step:c"] is None
    assert rows[1]["results:cost"] is None
    assert (rows[1]["exception"], rows[1]["exception:message"]) == ("ValueError", "bad")
    assert rows[0]["time:duration"] == 1.0 and rows[0]["cpu_time:duration"] == 0.5


def test_df_has_one_row_a_trial():
    pd = pytest.importorskip("pandas")
    df = sample().df()
    assert isinstance(df, pd.DataFrame)
    assert list(df["name"]) == ["a", "b", "c", "d", "e", "f"]
    assert list(df["status"]) == ["success", "fail", "success", "crashed", "success", "success"]
    assert df.loc[df["name"] == "d", "exception"].item() == "MemoryError"
    assert df["config:x"].tolist() == [1.0] * 6
    assert math.isnan(df.loc[df["name"] == "d", "results:cost"].item())
    types = pd.api.types
    assert types.is_datetime64_any_dtype(df["time:start"]) and str(df["time:end"].dt.tz) == "UTC"
    rows = sample().records()
    assert df["time:duration"].dt.total_seconds().tolist() == [r["time:duration"] for r in rows]
    assert df["time:start"].iloc[1].timestamp() == rows[1]["time:start"]
    assert (df["time:end"] - df["time:start"]).iloc[0] == df["time:duration"].iloc[0]
    empty = History().df()
    assert len(empty) == 0 and "status" in empty.columns
    assert types.is_timedelta64_dtype(empty["time:duration"])


def test_printing_the_best_trial_shows_its_configuration():
    text = str(sample().best())
    assert "config={'x': 1.0" in text and "results={'cost'" in text


def test_df_without_pandas_names_the_extra(monkeypatch):
    import sys

    from byop.plugins import MissingDependencyError

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"pip install byop\[pandas\]"):
        sample().df()
