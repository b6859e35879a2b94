from __future__ import annotations

import pickle

import pytest

from byop.optimization import (
    CrashReport,
    FailReport,
    ReportStatus,
    SuccessReport,
    TimeKind,
    Trial,
    TrialAlreadyReportedError,
)


def make(name="t", **config):
    return Trial(name=name, config=config or {"x": 1.0}, seed=3)


def test_success_inside_begin_times_the_block():
    trial = make()
    with trial.begin():
        report = trial.success(cost=0.5, extra="a")
    assert isinstance(report, SuccessReport)
    assert report.status is ReportStatus.SUCCESS
    assert report["cost"] == 0.5
    assert report.results == {"cost": 0.5, "extra": "a"}
    assert report.trial is trial and trial.report is report
    assert report.time.kind is TimeKind.WALL and report.cpu_time.kind is TimeKind.CPU
    assert report.time.duration >= 0 and report.time.end >= report.time.start
    assert report.exception is None and report.traceback is None


def test_begin_catches_the_exception_and_fail_reports_it():
    trial = make(x=0.0)
    with trial.begin():
        1 / trial.config["x"]
    report = trial.fail(cost=float("inf"))
    assert isinstance(report, FailReport)
    assert isinstance(report.exception, ZeroDivisionError)
    assert "ZeroDivisionError" in report.traceback
    assert "1 / trial.config" in report.traceback
    assert report["cost"] == float("inf")


def test_begin_does_not_swallow_keyboard_interrupt():
    trial = make()
    with pytest.raises(KeyboardInterrupt), trial.begin():
        raise KeyboardInterrupt


def test_crashed_keeps_exception_and_traceback():
    trial = make()
    try:
        raise RuntimeError("boom")
    except RuntimeError as e:
        report = trial.crashed(e)
    assert isinstance(report, CrashReport)
    assert report.results == {}
    assert "boom" in report.traceback


@pytest.mark.parametrize("second", ["success", "fail", "crashed"])
def test_reporting_twice_is_an_error(second):
    trial = make()
    trial.success(cost=1)
    with pytest.raises(TrialAlreadyReportedError, match="already has a success report"):
        getattr(trial, second)()


def test_missing_result_names_what_was_reported():
    report = make().success(accuracy=0.9)
    with pytest.raises(KeyError, match="reported no result 'cost'.*'accuracy'"):
        report["cost"]


def test_trial_repr_is_short():
    assert repr(make(x=2.0)) == "Trial(name='t', config={'x': 2.0})"


def test_trial_and_reports_pickle():
    trial = make()
    with trial.begin():
        raise ValueError("bad")
    report = trial.fail(cost=2.0)
    clone = pickle.loads(pickle.dumps(report))
    assert clone == report
    assert clone.trial.report is clone  # the cycle survives
    assert isinstance(clone.exception, ValueError)
    t2 = pickle.loads(pickle.dumps(make()))
    assert t2 == make() and t2.report is None


def test_unpicklable_exception_is_made_portable():
    from byop.optimization import ForeignException
    from byop.optimization._exceptions import portable

    class Local(Exception):
        pass

    exc = portable(Local("inner"))
    assert isinstance(exc, ForeignException)
    assert exc.type_name.endswith("Local") and exc.message == "inner"
    assert pickle.loads(pickle.dumps(exc)).message == "inner"


def test_trial_is_generic_and_has_report_aliases():
    assert Trial.Report[int] is not None
    assert Trial.SuccessReport is SuccessReport
    assert Trial.FailReport is FailReport
    assert Trial.CrashReport is CrashReport


def test_a_report_crosses_as_its_payload_or_the_plain_tuple_of_it():
    worker_side = make()
    with worker_side.begin():
        sent = worker_side.success(cost=0.5)
    payload = sent.payload()
    for form in (payload, tuple(payload), pickle.loads(pickle.dumps(tuple(payload)))):
        main_side = make()
        report = main_side.receive(form)
        assert isinstance(report, SuccessReport) and main_side.report is report
        assert report.results == {"cost": 0.5}
        assert report.time == sent.time and report.cpu_time == sent.cpu_time


def test_receive_explains_a_payload_it_cannot_take():
    trial = make()
    with pytest.raises(TypeError, match="receive\\(\\) takes the ReportPayload"):
        trial.receive(None)
    with pytest.raises(TypeError, match="ten fields"):
        trial.receive(("success", {}))
    bad = ("finished", {}, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None, None)
    with pytest.raises(ValueError, match="'finished'.*'success'"):
        trial.receive(bad)
    assert trial.report is None


def test_the_clock_stops_at_the_report():
    # The report's times are the trial's: the end of begin()'s block does not read them again.
    trial = make()
    with trial.begin():
        report = trial.success(cost=1.0)
    assert trial.times() == (report.time, report.cpu_time)
