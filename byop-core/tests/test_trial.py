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
    TrialFailedError,
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


def test_success_after_begin_caught_an_exception_raises_it_on():
    trial = make(x=0.0)
    with trial.begin():
        1 / trial.config["x"]
    with pytest.raises(TrialFailedError, match=r"ZeroDivisionError.*trial.fail\(\)") as e:
        trial.success(cost=1.0)
    assert isinstance(e.value.__cause__, ZeroDivisionError)
    assert trial.report is None  # still to be ended, with fail()
    assert isinstance(trial.fail().exception, ZeroDivisionError)


def test_crashed_without_an_exception_keeps_the_one_begin_caught():
    trial = make(x=0.0)
    with trial.begin():
        1 / trial.config["x"]
    report = trial.crashed()
    assert isinstance(report.exception, ZeroDivisionError)
    assert "ZeroDivisionError" in report.traceback


def test_a_new_begin_block_starts_afresh():
    trial = make()
    for attempt in range(2):  # a retry: the second attempt succeeds
        with trial.begin():
            if attempt == 0:
                raise ConnectionError("flaky")
            report = trial.success(cost=1.0)
    assert isinstance(report, SuccessReport)
    assert trial.exception is None


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


def test_fidelities_travel_with_the_trial():
    import pickle

    from byop.serialization import dumps, loads

    trial = Trial(name="t", config={"x": 1.0}, fidelities={"epochs": 9})
    assert trial.budget == 9  # one fidelity: also the trial's budget
    assert pickle.loads(pickle.dumps(trial)) == trial
    assert loads(dumps(trial), Trial).fidelities == {"epochs": 9}
    assert Trial(name="u", config={}).fidelities == {}
    assert Trial(name="v", config={}, fidelities={"a": 1, "b": 2}).budget is None


def test_metric_and_fidelity_declarations_are_checked():
    from byop.optimization import Fidelity, Metric, as_fidelities, as_metrics

    assert as_metrics({"accuracy": "max", "latency": "min"}) == (
        Metric("accuracy", minimize=False),
        Metric("latency"),
    )
    assert Metric("loss", bounds=(0, 10)).worst == 10.0
    assert Metric("accuracy", minimize=False, bounds=(0, 1)).worst == 0.0
    with pytest.raises(ValueError, match="'min' or 'max'"):
        as_metrics({"accuracy": "up"})
    with pytest.raises(ValueError, match="low < high"):
        Metric("loss", bounds=(1, 0))
    assert as_fidelities({"epochs": (1, 27)}) == (Fidelity("epochs", 1, 27),)
    with pytest.raises(ValueError, match="low must be below high"):
        Fidelity("epochs", 5, 5)
    with pytest.raises(ValueError, match="log fidelity needs low > 0"):
        Fidelity("frac", 0, 1, log=True)
    with pytest.raises(ValueError, match="unique"):
        as_fidelities([Fidelity("a", 0, 1), Fidelity("a", 1, 2)])
