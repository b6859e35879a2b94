"""byop-airflow on a real Airflow 3 (``scripts/services/airflow-up``): logging in, checking the
DAG, what is refused before anything runs, what Airflow refuses, and how byop waits.

The trial DAG of the service runs ``byop.testing`` and ``support.objectives`` (see
``support.services``).
"""

from __future__ import annotations

import collections
import logging
import os
import time
from pathlib import Path

import psutil
import pytest
from support import services
from support.objectives import poly, sleepy_trial

from byop.airflow import (
    AirflowAuthError,
    AirflowConfigError,
    AirflowUnavailableError,
    NotImportableError,
    find_connection,
)
from byop.airflow._cli import main
from byop.airflow._rest import Rest
from byop.optimization import CrashReport, SuccessReport, Trial
from byop.scheduling import ExitStatus, Scheduler, Task


@pytest.fixture
def config() -> Path:
    return Path(services.need("airflow"))


def _other_config(tmp_path: Path, **changes: str) -> Path:
    found = find_connection()
    values = {"url": found.url, "username": found.username or "", "password": "x"}
    values["password"] = found.password or ""
    values.update(changes)
    path = tmp_path / "airflow.toml"
    path.write_text("[airflow]\n" + "".join(f'{k} = "{v}"\n' for k, v in values.items()))
    path.chmod(0o600)
    return path


def test_the_check_command_logs_in_and_pings_the_dag(config, capsys):
    assert main(["check", "--config", str(config), "--ping", "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "logged in" in out and "byop's trial DAG, unpaused" in out
    assert "ping: a run of byop_trial answered" in out and "support.objectives" in out


def test_a_wrong_password_is_refused_without_showing_it(config, tmp_path, caplog):
    path = _other_config(tmp_path, password="not-the-password-42")
    scheduler = Scheduler.with_backend("airflow", config=path)
    with caplog.at_level(logging.DEBUG), pytest.raises(AirflowAuthError) as raised:
        scheduler.run(timeout=30)
    assert "refused the user 'byop'" in str(raised.value)
    assert str(path) in str(raised.value)
    assert "not-the-password-42" not in str(raised.value) + caplog.text


def test_nothing_at_the_url_is_a_clear_error_at_once(config):
    scheduler = Scheduler.with_backend("airflow", url="http://127.0.0.1:9", timeout=2)
    start = time.monotonic()
    with pytest.raises(AirflowUnavailableError, match=r"127.0.0.1:9.*airflow-up"):
        scheduler.run(timeout=30)
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"dag_id": "no_such_dag"}, r"no DAG 'no_such_dag'.*deploy-dag"),
        ({"pool": "gpus"}, r"pool 'default_pool', not 'gpus'.*--pool gpus"),
    ],
)
def test_a_dag_that_is_missing_or_elsewhere_is_a_clear_error(config, options, match):
    scheduler = Scheduler.with_backend("airflow", **options)
    with pytest.raises(AirflowConfigError, match=match):
        scheduler.run(timeout=30)


def test_an_objective_airflow_cannot_import_is_refused_before_anything_runs(config):
    namespace = {"__name__": "__main__"}
    exec("def objective(trial):\n    return trial.success(cost=1.0)\n", namespace)
    scheduler = Scheduler.with_backend("airflow")
    task = Trial.Task(namespace["objective"], scheduler)
    scheduler.on_start(lambda: task(Trial(name="t", config={})))
    start = time.monotonic()
    with pytest.raises(NotImportableError, match="__main__"):
        scheduler.run(timeout=60)
    assert time.monotonic() - start < 10


def test_a_function_the_dag_does_not_allow_never_runs_there(config):
    scheduler = Scheduler.with_backend("airflow")
    task = Task(os.getpid, scheduler)
    errors = []
    task.on_exception(lambda call, error: errors.append(error))
    scheduler.on_start(task)
    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    (error,) = errors
    assert type(error) is PermissionError and "--allow posix" in str(error)


def test_waiting_is_one_list_request_per_poll_for_all_runs_in_flight(config, monkeypatch):
    requests: collections.Counter[str] = collections.Counter()
    original = Rest.request

    def counted(self, method, path, **kwargs):
        kind = "list" if path.endswith("/dagRuns") and method == "GET" else method
        if "/xcomEntries/" in path:
            kind = "xcom"
        elif method == "GET" and "/dagRuns/" in path and "/taskInstances" not in path:
            kind = "run"
        requests[kind] += 1
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(Rest, "request", counted)
    scheduler = Scheduler.with_backend("airflow")
    task = Trial.Task(sleepy_trial, scheduler)
    reports = []
    n = 6

    @scheduler.on_start
    def launch():
        for i in range(n):
            task(Trial(name=f"t{i}", config={"sleep": 0.5, "x": float(i)}))

    task.on_report(reports.append)
    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    assert sorted(r["cost"] for r in reports) == [float(i) for i in range(n)]
    assert requests["POST"] == n  # one trigger per trial
    assert requests["run"] == n and requests["xcom"] == n  # one look at each run, as it ends
    # every poll is one list request for all six runs (they fit in one page), and nothing else
    # was asked but the DAG and its task, once, at the start
    assert requests["list"] == scheduler.backend.polls >= 1
    assert sum(requests.values()) == 3 * n + requests["list"] + 2


def test_the_password_reaches_neither_the_run_store_nor_the_logs(config, tmp_path, caplog):
    from byop.run import optimize

    password = find_connection().password
    assert password
    store = tmp_path / "run.jsonl"
    with caplog.at_level(logging.DEBUG):
        history = optimize(
            poly,
            {"x": (1.0, 10.0)},
            max_trials=2,
            n_workers=2,
            backend="airflow",
            backend_options={"config": str(config)},
            store=str(store),
            progress="off",
            timeout=120,
        )
    assert len(history) == 2
    assert all(isinstance(r, SuccessReport) for r in history)
    assert password not in store.read_text()
    assert password not in caplog.text


def test_a_run_stopped_early_leaves_no_run_going(config):
    scheduler = Scheduler.with_backend("airflow")
    task = Trial.Task(sleepy_trial, scheduler)
    reports = []
    scheduler.on_start(lambda: task(Trial(name="long", config={"sleep": 600})))
    task.on_report(reports.append)
    assert scheduler.run(timeout=1, wait=False) is ExitStatus.TIMEOUT
    (report,) = reports
    assert isinstance(report, CrashReport)
    rest = Rest(find_connection())
    try:
        runs = rest.get("/dags/byop_trial/dagRuns", state=["queued", "running"], limit=100)
    finally:
        rest.close()
    ours = [r for r in runs["dag_runs"] if r["dag_run_id"].endswith("-long")]
    assert ours == [], "the DAG run of the cancelled trial is still going"
    assert psutil.Process().children(recursive=True) == []


def test_more_runs_in_flight_than_a_page_are_read_page_by_page(config, monkeypatch):
    import byop.airflow._poller

    monkeypatch.setattr(byop.airflow._poller, "_PAGE", 1)
    pages = []
    original = Rest.request

    def counted(self, method, path, **kwargs):
        if method == "GET" and path.endswith("/dagRuns"):
            pages.append(kwargs["params"]["offset"])
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(Rest, "request", counted)
    scheduler = Scheduler.with_backend("airflow")
    task = Trial.Task(sleepy_trial, scheduler)
    reports = []
    scheduler.on_start(lambda: [task(Trial(name=f"p{i}", config={"sleep": 1.0})) for i in range(3)])
    task.on_report(reports.append)
    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    assert sorted(r.trial.name for r in reports) == ["p0", "p1", "p2"]
    assert all(isinstance(r, SuccessReport) for r in reports)
    assert 2 in pages  # the third run in flight was on the third page


def test_a_token_works_in_place_of_a_password_and_a_bad_one_says_so(config, monkeypatch, capsys):
    rest = Rest(find_connection())
    try:
        token = rest._login()
    finally:
        rest.close()
    url = find_connection().url
    monkeypatch.delenv("BYOP_AIRFLOW_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent")
    monkeypatch.setenv("BYOP_AIRFLOW_URL", url)
    monkeypatch.setenv("BYOP_AIRFLOW_TOKEN", token)
    assert main(["check"]) == 0
    assert "logged in with the environment" in capsys.readouterr().out
    monkeypatch.setenv("BYOP_AIRFLOW_TOKEN", token[:-4] + "AAAA")
    assert main(["check"]) == 1
    assert "refused the token from the environment" in capsys.readouterr().err
