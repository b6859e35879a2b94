from __future__ import annotations

import json

import pytest

from byop.optimization import ForeignException, RandomSearch, Report, RSTrialInfo, Trial
from byop.serialization import SerializationError, dumps, loads, register_type


class CustomError(Exception):
    pass


def reports():
    rs = RandomSearch(space={"x": (0.0, 1.0), "c": ["a", "b"]}, seed=0)
    ok = rs.ask()
    with ok.begin():
        success = ok.success(cost=0.25, extra=[1, 2])
    bad = rs.ask()
    with bad.begin():
        raise ValueError("went wrong")
    fail = bad.fail(cost=float("inf"))
    crash_t = rs.ask()
    try:
        raise CustomError("custom")
    except CustomError as e:
        crash = crash_t.crashed(e)
    return [success, fail, crash]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["success", "fail", "crash"])
def test_round_trip_equal(index):
    report = reports()[index]
    back = loads(dumps(report), Report)
    assert back == report
    assert type(back) is type(report)
    assert back.trial.report is back
    assert isinstance(back.trial.info, RSTrialInfo)


def test_exceptions_come_back_as_builtin_or_foreign():
    _, fail, crash = reports()
    assert isinstance(loads(dumps(fail), Report).exception, ValueError)
    foreign = loads(dumps(crash), Report).exception
    assert isinstance(foreign, ForeignException)
    assert foreign.type_name.endswith("CustomError") and foreign.message == "custom"
    assert "custom" in loads(dumps(crash), Report).traceback


def test_registered_exception_comes_back_as_itself():
    register_type(CustomError, "tests.CustomError")
    crash = reports()[2]
    data = json.loads(dumps(crash))
    assert data["exception"]["type"] == "tests.CustomError"
    assert isinstance(loads(dumps(crash), Report).exception, CustomError)


def test_stored_names_never_import_anything():
    report = reports()[0]
    data = json.loads(dumps(report))
    data["exception"] = {"type": "os.system", "message": "echo pwned"}
    data["trial"]["info"] = {"type": "subprocess.Popen", "data": {"args": "ls"}}
    back = loads(json.dumps(data), Report)
    assert isinstance(back.exception, ForeignException)
    assert back.trial.info == {"type": "subprocess.Popen", "data": {"args": "ls"}}


def test_numpy_values_become_plain():
    import numpy as np

    trial = Trial(name="n", config={"x": np.float64(0.5), "i": np.int64(3)})
    report = trial.success(cost=np.float32(1.5), arr=np.arange(3))
    data = json.loads(dumps(report))
    assert data["trial"]["config"] == {"x": 0.5, "i": 3}
    assert data["results"] == {"cost": 1.5, "arr": [0, 1, 2]}


@pytest.mark.parametrize("text", ["not json", '{"status": "success"}', '{"status": "weird"}'])
def test_bad_data_is_a_clear_error(text):
    with pytest.raises(SerializationError):
        loads(text, Report)


def test_non_finite_numbers_are_valid_json():
    import json
    import math

    from byop.optimization import Trial

    report = Trial(name="t", config={"x": 1.0}).fail(cost=float("nan"), worst=float("-inf"))
    text = dumps(report)
    assert "NaN" not in text.replace('"NaN"', "")  # only inside the $numberDouble object
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in {text}"))
    back = loads(text, Report)
    assert math.isnan(back["cost"]) and back["worst"] == float("-inf")
