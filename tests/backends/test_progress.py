"""Intermediate results on every back end: progress reaches the judge, the answer comes back.

A judge in the main process stops trials whose ``x`` is large once they reach step 2; each
back end must carry every progress report there and the answer back to the trial, which then
ends as pruned (returning ``trial.prune()`` or raising `TrialPruned`). The remote back ends
skip without their service (see ``support.services``), and fail instead in CI. Airflow runs
trials in DAG runs that cannot reach the main process: progress is not carried there.
"""

from __future__ import annotations

import threading

import pytest
from support import services
from support.objectives import learning_curve

from byop.optimization import PrunedReport, SuccessReport, Trial
from byop.scheduling import ExitStatus, Scheduler

LOCAL = ("sequential", "threads", "processes")


def _scheduler(name: str, request: pytest.FixtureRequest) -> Scheduler:
    if name in LOCAL:
        return Scheduler.with_backend(name, n_workers=2)
    if name == "process-pool":
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(2)  # the user's: byop leaves it up, the test shuts it down
        request.addfinalizer(lambda: pool.shutdown(wait=True, cancel_futures=True))
        return Scheduler(pool)
    if name != "dask-local":
        services.need(name.split("-", maxsplit=1)[0])
    return services.remote_scheduler(name, request)


@pytest.fixture(params=[*LOCAL, "process-pool", "dask", "dask-local", "ray", "slurm"])
def backend(request):
    return request.param


@pytest.mark.parametrize("raising", [False, True], ids=["prune", "raise"])
def test_progress_reaches_the_judge_and_the_answer_the_trial(backend, raising, request):
    scheduler = _scheduler(backend, request)
    task = Trial.Task(learning_curve, scheduler)
    heard: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def judge(trial, step, values):
        with lock:
            heard.append((trial.name, step, values["cost"]))
        return trial.config["x"] >= 10 and step >= 2

    task.progress_judge = judge
    reports = {}
    task.on_report(lambda r: reports.setdefault(r.trial.name, r))

    @scheduler.on_start
    def start():
        for i, x in enumerate([0, 10, 1, 20]):
            task(Trial(name=f"t{i}", config={"x": x, "steps": 4, "raise": raising}))

    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    assert sorted(reports) == ["t0", "t1", "t2", "t3"]
    for name in ("t0", "t2"):
        report = reports[name]
        assert isinstance(report, SuccessReport), (report, report.exception, report.traceback)
        assert report["answers"] == 4
    for name, x in (("t1", 10), ("t3", 20)):
        report = reports[name]
        assert isinstance(report, PrunedReport), (report, report.exception, report.traceback)
        assert report.step == 2 and report["cost"] == x + 0.5
        assert reports[name].trial.progress == (2, {"cost": x + 0.5})
    # Steps 1-4 of the two that went on, 1-2 of the two stopped: a stopped trial is not asked
    # again.
    assert sorted((n, s) for n, s, _ in heard) == sorted(
        [(n, s) for n in ("t0", "t2") for s in range(1, 5)]
        + [(n, s) for n in ("t1", "t3") for s in (1, 2)]
    )


def test_without_a_judge_trials_run_to_the_end(request):
    scheduler = Scheduler.with_backend("processes", n_workers=1)
    task = Trial.Task(learning_curve, scheduler)
    reports = []
    task.on_report(reports.append)
    scheduler.on_start(lambda: task(Trial(name="a", config={"x": 50})))
    scheduler.run(timeout=60)
    (report,) = reports
    assert isinstance(report, SuccessReport) and report["answers"] == 6


def test_a_judge_that_raises_stops_the_trial_and_the_run_says_why():
    scheduler = Scheduler.with_backend("processes", n_workers=1)
    task = Trial.Task(learning_curve, scheduler)

    def judge(trial, step, values):
        raise RuntimeError("broken pruner")

    task.progress_judge = judge
    scheduler.on_start(lambda: task(Trial(name="a", config={"x": 1})))
    with pytest.raises(RuntimeError, match="broken pruner"):
        scheduler.run(timeout=60)
