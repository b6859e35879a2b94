"""byop-airflow without an Airflow: the wire format, the DAG's task, deploying, credentials.

What the DAG's task runs (`run_conf`) is plain byop: it runs here as on an Airflow worker,
sandbox and all. The tests on a real Airflow are in test_service.py and test_conformance.py.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import os
import subprocess
import sys
import textwrap

import psutil
import pytest

from byop.airflow import (
    AirflowBackend,
    AirflowConfigError,
    DagFileExistsError,
    NotImportableError,
    NotJSONError,
    deploy_dag,
    find_connection,
    run_conf,
)
from byop.airflow._cli import main
from byop.airflow._wire import (
    decode_call,
    decode_exception,
    decode_outcome,
    encode_call,
    encode_exception,
    function_path,
)
from byop.optimization import CrashReport, FailReport, ForeignException, SuccessReport, Trial
from byop.scheduling import (
    Call,
    Scheduler,
    Task,
    TrialTask,
    WallTimeLimitExceeded,
    WorkerDiedError,
)
from byop.testing._calls import faulty_trial, raise_value_error, square, trial_of_kind

ALLOW = ["byop.testing"]


@pytest.fixture(autouse=True)
def _no_process_left():
    yield
    assert psutil.Process().children(recursive=True) == []


def _trial_call(objective, trial, **limits):
    task = TrialTask(objective, **limits)
    return Call(task, task._remote(), (trial,), {}, task.limits, wrapped=False)


def _plain_call(fn, *args, **kwargs):
    task = Task(fn)
    return Call(task, fn, args, kwargs, None)


def _roundtrip(call, allow=ALLOW):
    """What the back end would get back from Airflow for ``call``: (ok, value, traceback)."""
    conf = json.loads(json.dumps(encode_call(call)))  # as Airflow stores it
    text = run_conf(conf, allow=allow, where="a test")
    return decode_outcome(text, trial=call.args[:1] != () and isinstance(call.args[0], Trial))


# ---------------------------------------------------------------------- registration
def test_registered_and_created_without_any_airflow():
    code = """
    import sys
    from byop.scheduling import Scheduler

    backend = Scheduler.with_backend("airflow", n_workers=3).backend
    assert backend.name == "airflow" and backend.n_workers == 3
    assert not [m for m in sys.modules if m == "airflow" or m.startswith("airflow.")]
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("BYOP_AIRFLOW")}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_workers": 0}, "n_workers"),
        ({"n_workers": True}, "n_workers"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"timeout": -1}, "timeout"),
        ({"url": "airflow:8080"}, "http"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AirflowBackend(**kwargs)


def test_no_airflow_configured_is_a_clear_error_when_the_run_starts(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("BYOP_AIRFLOW"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    scheduler = Scheduler.with_backend("airflow")
    with pytest.raises(AirflowConfigError, match="Which Airflow"):
        scheduler.run(timeout=10)
    assert not scheduler.is_running


# ---------------------------------------------------------------------- the wire
def test_a_trial_crosses_as_json_and_its_report_comes_back():
    trial = Trial(name="t1", config={"kind": "success", "x": 2.5}, seed=7)
    call = _trial_call(trial_of_kind, trial, wall_time_limit=30)
    conf = encode_call(call)
    json.dumps(conf, allow_nan=False)  # strict JSON: what Airflow stores
    body = conf["byop"]
    assert body["function"] == "byop.testing._calls:trial_of_kind"
    assert body["trial"]["config"] == {"kind": "success", "x": 2.5}
    assert body["limits"] == {"memory": None, "cpu_time": None, "wall_time": 30.0}
    spec = decode_call(conf)
    assert spec.trial is not None and spec.trial.name == "t1" and spec.trial.seed == 7
    ok, payload, _ = _roundtrip(call)
    assert ok
    report = trial.receive(payload)
    assert isinstance(report, SuccessReport) and report["cost"] == 2.5
    assert report.time.duration >= 0


@pytest.mark.parametrize(
    ("kind", "report_type", "exception"),
    [("fail", FailReport, ValueError), ("crash", CrashReport, RuntimeError)],
)
def test_failures_and_crashes_keep_their_exception(kind, report_type, exception):
    trial = Trial(name=kind, config={"kind": kind})
    ok, payload, _ = _roundtrip(_trial_call(trial_of_kind, trial))
    assert ok  # the objective's failure is its report's
    report = trial.receive(payload)
    assert isinstance(report, report_type)
    assert type(report.exception) is exception
    assert report.traceback and "trial_of_kind" in report.traceback


def test_limits_hold_in_the_sandbox_and_the_import_is_not_the_trials_time():
    trial = Trial(name="wall", config={"fault": "wall", "seconds": 30})
    ok, payload, _ = _roundtrip(_trial_call(faulty_trial, trial, wall_time_limit=0.5))
    report = trial.receive(payload)
    assert isinstance(report, FailReport)
    assert isinstance(report.exception, WallTimeLimitExceeded)
    quick = Trial(name="quick", config={"sleep": 0.05})
    ok, payload, _ = _roundtrip(_trial_call(faulty_trial, quick, wall_time_limit=0.5))
    assert ok
    assert isinstance(quick.receive(payload), SuccessReport)


def test_a_call_that_kills_its_process_is_a_dead_worker():
    trial = Trial(name="exit", config={"fault": "exit"})
    ok, error, _ = _roundtrip(_trial_call(faulty_trial, trial))
    assert not ok
    assert isinstance(error, WorkerDiedError)
    assert error.exitcode == 3
    assert "a test" in str(error)


def test_plain_calls_take_and_give_json():
    assert _roundtrip(_plain_call(square, 7)) == (True, 49, None)
    ok, error, tb = _roundtrip(_plain_call(raise_value_error, 3))
    assert not ok and type(error) is ValueError and str(error) == "bad 3"
    assert tb is not None and "raise_value_error" in tb
    ok, error, _ = _roundtrip(_plain_call(os.getcwd), allow=["posix"])
    assert ok and isinstance(error, str)


def test_a_result_that_is_not_json_is_a_clear_error():
    ok, error, _ = _roundtrip(_plain_call(os.cpu_count), allow=["posix"])
    assert ok  # an int is fine
    import uuid

    ok, error, _ = _roundtrip(_plain_call(uuid.uuid4), allow=["uuid"])
    assert not ok and isinstance(error, NotJSONError)
    assert "uuid.UUID" in str(error)


def test_functions_of_modules_not_allowed_never_run(tmp_path):
    marker = tmp_path / "ran"
    call = _plain_call(os.mkdir, str(marker))
    ok, error, _ = _roundtrip(call, allow=["byop.testing"])
    assert not ok and type(error) is PermissionError
    assert "--allow posix" in str(error)
    assert not marker.exists()
    ok, _, _ = _roundtrip(_plain_call(square, 2), allow=["byop"])  # a package allows its modules
    assert ok
    ok, error, _ = _roundtrip(_plain_call(square, 2), allow=["byop.test"])  # not a prefix match
    assert not ok and type(error) is PermissionError


def test_a_module_missing_on_the_worker_is_the_calls_error():
    conf = {"byop": {"format": 1, "function": "no_such_module:f", "args": [], "kwargs": {}}}
    ok, error, _ = decode_outcome(run_conf(conf, allow=["no_such_module"]), trial=False)
    assert not ok and type(error) is ModuleNotFoundError


@pytest.mark.parametrize(
    "conf",
    [{}, {"byop": "x"}, {"byop": {"format": 99, "function": "m:f"}}, {"other": 1}],
    ids=["empty", "not-a-mapping", "newer-format", "by-hand"],
)
def test_a_conf_that_is_not_a_call_says_so(conf):
    ok, error, _ = decode_outcome(run_conf(conf, allow=ALLOW), trial=False)
    assert not ok and type(error) is ValueError
    assert "byop" in str(error)


def test_the_ping_says_where_the_dag_runs():
    ok, about, _ = decode_outcome(
        run_conf({"byop": {"format": 1, "ping": True}}, allow=ALLOW), trial=False
    )
    assert ok and about["allow"] == ALLOW and about["byop"]


def test_functions_airflow_cannot_import_are_refused_here():
    namespace = {"__name__": "__main__"}
    exec("def objective(trial):\n    return None\n", namespace)
    with pytest.raises(NotImportableError, match=r"__main__.*objectives\.py"):
        function_path(namespace["objective"])
    with pytest.raises(NotImportableError, match="lambda"):
        function_path(lambda trial: None)

    def local(trial):
        return None

    with pytest.raises(NotImportableError, match="inside another function"):
        function_path(local)
    import functools

    with pytest.raises(NotImportableError, match="module-level"):
        function_path(functools.partial(square, 2))
    assert function_path(square) == "byop.testing._calls:square"


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        ((math.nan,), "nan"),
        (({"a": {1: 2}},), "key 1"),
        ((object(),), "builtins.object"),
        (({"x": [1, {"y": math.inf}]},), r"\['x'\]\[1\]\['y'\]"),
    ],
)
def test_arguments_that_are_not_json_are_refused_naming_the_culprit(args, culprit):
    with pytest.raises(NotJSONError, match=culprit):
        encode_call(_plain_call(square, *args))


def test_tuples_travel_as_lists():
    body = encode_call(_plain_call(square, (1, 2)))["byop"]
    assert body["args"] == [[1, 2]]


def test_byops_exceptions_come_back_as_themselves_and_others_as_data():
    died = WorkerDiedError("gone", pid=12, exitcode=None, signal="SIGKILL")
    back = decode_exception(json.loads(json.dumps(encode_exception(died))))
    assert isinstance(back, WorkerDiedError)
    assert (back.pid, back.signal, str(back)) == (12, "SIGKILL", "gone")
    assert type(decode_exception(encode_exception(OSError("o")))) is OSError

    class Mine(Exception):
        pass

    foreign = decode_exception(encode_exception(Mine("m")))
    assert isinstance(foreign, ForeignException) and foreign.message == "m"


def test_a_result_in_another_format_is_refused():
    with pytest.raises(ValueError, match="same byop version"):
        decode_outcome('{"format": 2, "ok": true, "value": 1}', trial=False)
    with pytest.raises(ValueError, match="not byop's JSON"):
        decode_outcome("<html>", trial=False)


def test_infinite_costs_come_back():
    trial = Trial(name="inf", config={})
    payload = trial.fail(cost=math.inf).payload()
    from byop.airflow._wire import encode_outcome

    ok, back, _ = decode_outcome(encode_outcome(True, payload, None), trial=True)
    assert ok
    assert Trial(name="inf", config={}).receive(back)["cost"] == math.inf


# ---------------------------------------------------------------------- deploying the DAG
def test_deploy_writes_a_dag_file_with_the_options(tmp_path):
    path = deploy_dag(tmp_path, allow=["pkg.objectives"], dag_id="trials", pool="gpu", retries=2)
    assert path == tmp_path / "trials.py"
    text = path.read_text()
    tree = ast.parse(text)  # valid Python
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    args = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert args["allow"] == ["pkg.objectives"] and args["pool"] == "gpu" and args["retries"] == 2
    assert "airflow" in text and "dag" in text  # what Airflow's safe mode looks for
    assert deploy_dag(tmp_path, allow=["pkg.objectives"], dag_id="trials", pool="gpu", retries=2)
    with pytest.raises(DagFileExistsError, match="force"):
        deploy_dag(tmp_path, allow=["other"], dag_id="trials")
    deploy_dag(tmp_path, allow=["other"], dag_id="trials", force=True)
    assert "'other'" in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trials.py"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"allow": []}, "Name the modules"),
        ({"allow": ["not a module"]}, "not a module name"),
        ({"allow": ["ok"], "dag_id": "a b"}, "not a DAG id"),
        ({"allow": ["ok"], "retries": -1}, "retries"),
        ({"allow": ["ok"], "max_active_runs": 0}, "max_active_runs"),
    ],
)
def test_deploy_refuses_bad_options(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        deploy_dag(tmp_path, **kwargs)


def test_the_command_deploys_and_explains_its_errors(tmp_path, capsys):
    assert main(["deploy-dag", "--dags-folder", str(tmp_path), "--allow", "pkg"]) == 0
    assert "wrote" in capsys.readouterr().out
    missing = tmp_path / "missing"
    assert main(["deploy-dag", "--dags-folder", str(missing), "--allow", "pkg"]) == 1
    assert "dags folder" in capsys.readouterr().err
    proc = subprocess.run(
        [sys.executable, "-m", "byop.airflow", "deploy-dag", "--dags-folder", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "--allow" in proc.stderr


# ---------------------------------------------------------------------- credentials
@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("BYOP_AIRFLOW"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return monkeypatch


def test_credentials_come_from_the_environment_before_the_file(clean_env, tmp_path):
    path = tmp_path / "airflow.toml"
    path.write_text('[airflow]\nurl = "http://a:1"\nusername = "u"\npassword = "p"\n')
    path.chmod(0o600)
    clean_env.setenv("BYOP_AIRFLOW_CONFIG", str(path))
    found = find_connection()
    assert (found.url, found.username, found.password) == ("http://a:1", "u", "p")
    clean_env.setenv("BYOP_AIRFLOW_PASSWORD", "from-env")
    clean_env.setenv("BYOP_AIRFLOW_URL", "http://b:2/")
    found = find_connection()
    assert (found.url, found.password) == ("http://b:2", "from-env")
    assert find_connection(url="http://c:3").url == "http://c:3"
    assert "from-env" not in repr(found) and "p'" not in repr(found)


def test_the_default_config_file_is_read(clean_env, tmp_path):
    path = tmp_path / "xdg" / "byop" / "airflow.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[airflow]\nurl = "http://d:4"\ndag_id = "mine"\n')
    found = find_connection()
    assert found.url == "http://d:4" and found.dag_id == "mine"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("url = 'http://x'\n", r"no \[airflow\] table"),
        ("[airflow]\nurl = 'http://x'\npasword = 'p'\n", "unknown keys.*pasword"),
        ("[airflow]\nurl = 3\n", "must be a string"),
        ("[airflow\n", "not valid TOML"),
        ("[airflow]\nurl = 'airflow:8080'\n", "not an http"),
        ("[airflow]\nusername = 'u'\n", "Which Airflow"),
    ],
)
def test_a_wrong_config_file_says_where_and_what(clean_env, tmp_path, text, match):
    path = tmp_path / "airflow.toml"
    path.write_text(text)
    with pytest.raises(AirflowConfigError, match=match):
        find_connection(config=path)


def test_a_password_file_others_can_read_is_warned_about(clean_env, tmp_path, caplog):
    path = tmp_path / "airflow.toml"
    path.write_text('[airflow]\nurl = "http://a:1"\npassword = "hunter2"\n')
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="byop.airflow"):
        find_connection(config=path)
    assert "chmod 600" in caplog.text and "hunter2" not in caplog.text
