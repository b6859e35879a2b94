"""Limits, crash isolation and cancellation on Dask, Ray, Slurm and Airflow, on the real services.

Each back end runs faulty trials beside healthy ones: every trial must end with exactly one
report of the right kind, the healthy ones must succeed, and the run must go on. ``dask-local``
(a local cluster byop starts) needs no service; the others skip without theirs (see
``support.services``), and fail instead in CI.
"""

from __future__ import annotations

import psutil
import pytest
from support import services
from support.announce import Announcements
from support.objectives import faulty_trial

from byop.optimization import CrashReport, FailReport, SuccessReport, Trial
from byop.scheduling import (
    CallCancelledError,
    CPUTimeLimitExceeded,
    ExitStatus,
    MemoryLimitExceeded,
    WallTimeLimitExceeded,
    WorkerDiedError,
)

MB = 1000**2

# (trial name, config, the task's limits, the report expected, its exception)
FAULTS = [
    ("memory", {"fault": "memory", "limit": 100 * MB}, "memory", FailReport, MemoryLimitExceeded),
    ("cpu", {"fault": "cpu", "seconds": 60}, "cpu", FailReport, CPUTimeLimitExceeded),
    ("wall", {"fault": "wall"}, "wall", FailReport, WallTimeLimitExceeded),
    ("block", {"fault": "block"}, "wall", FailReport, WallTimeLimitExceeded),
    ("exit", {"fault": "exit"}, None, CrashReport, WorkerDiedError),
    ("sigkill", {"fault": "sigkill"}, None, CrashReport, WorkerDiedError),
    ("segfault", {"fault": "segfault"}, None, CrashReport, WorkerDiedError),
]
LIMITS = {
    None: {},
    "memory": {"memory_limit": 100 * MB},
    "cpu": {"cpu_time_limit": 0.5},
    "wall": {"wall_time_limit": 1.0},
}


@pytest.fixture(params=services.REMOTE)
def backend(request):
    if request.param != "dask-local":
        services.need(request.param.split("-")[0])
    return request.param


def test_limits_and_crashes_cost_one_trial_each(backend, request):
    scheduler = services.remote_scheduler(backend, request)
    tasks = {
        k: Trial.Task(faulty_trial, scheduler, name=f"faulty-{k}", **v) for k, v in LIMITS.items()
    }
    reports = {}

    @scheduler.on_start
    def start():
        for name, config, limits, _, _ in FAULTS:
            tasks[limits](Trial(name=name, config=config))
        for i in range(6):
            tasks[None](Trial(name=f"ok{i}", config={"sleep": 0.05}))

    for task in tasks.values():
        task.on_report(lambda r: reports.setdefault(r.trial.name, []).append(r))

    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    assert sorted(reports) == sorted([f[0] for f in FAULTS] + [f"ok{i}" for i in range(6)])
    assert all(len(r) == 1 for r in reports.values()), "exactly one report per trial"
    for i in range(6):
        assert isinstance(reports[f"ok{i}"][0], SuccessReport)
    for name, _, _, kind, exception in FAULTS:
        (report,) = reports[name]
        assert isinstance(report, kind), (name, report, report.exception)
        assert isinstance(report.exception, exception), (name, report.exception)
    assert "killed" in str(reports["block"][0].exception)  # blocked in C: a hard kill
    assert psutil.Process().children(recursive=True) == []


def test_stopping_cancels_running_trials_on_the_cluster(backend, request):
    scheduler = services.remote_scheduler(backend, request)
    task = Trial.Task(faulty_trial, scheduler)
    reports = []
    pids: list[int] = []

    with Announcements() as started:

        @scheduler.on_start
        def start():
            for i in range(2):
                task(Trial(name=f"long{i}", config={"sleep": 60, "announce": started.address}))

        @scheduler.on_start
        def stop_once_both_run():
            pids.extend(started.wait(2, timeout=60))
            scheduler.stop("enough")

        task.on_report(reports.append)
        assert scheduler.run(timeout=120, wait=False) is ExitStatus.STOPPED
    assert sorted(r.trial.name for r in reports) == ["long0", "long1"]
    for r in reports:
        assert isinstance(r, CrashReport)
        assert isinstance(r.exception, CallCancelledError)
    # The trials do not go on running on the cluster: their sandboxes are killed.
    running = []
    for pid in pids:
        try:
            running.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue  # gone already
    _, alive = psutil.wait_procs(running, timeout=15)
    assert alive == [], f"trials still running on the cluster: {alive}"


@pytest.mark.parametrize("service", ["dask", "ray", "airflow"])
def test_a_dying_engine_worker_costs_its_trial_only(service, tmp_path):
    """The engine's own worker process dies mid-trial (not just the sandbox).

    On Airflow, that is the task's process: Airflow fails the task, and the DAG run with it.
    """
    scheduler = services.remote_scheduler(service)
    # With a limit, the trial runs in a sandbox on Ray too, whose parent is the Ray worker
    # (without one, it runs in the Ray worker itself: a crash of the trial is the worker's).
    task = Trial.Task(faulty_trial, scheduler, wall_time_limit=120)
    reports = {}
    killer = {"fault": "kill-parent-once", "marker": str(tmp_path / "killed"), "sleep": 30}

    @scheduler.on_start
    def start():
        task(Trial(name="kills-its-worker", config=killer))
        for i in range(4):
            task(Trial(name=f"ok{i}", config={"sleep": 0.05}))

    task.on_report(lambda r: reports.setdefault(r.trial.name, []).append(r))
    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    assert all(len(r) == 1 for r in reports.values()), "exactly one report per trial"
    assert len(reports) == 5
    (report,) = reports["kills-its-worker"]
    assert isinstance(report, CrashReport)
    assert isinstance(report.exception, WorkerDiedError)
    for i in range(4):
        assert isinstance(reports[f"ok{i}"][0], SuccessReport)
    if service == "dask":
        # Its nanny restarts the worker: the next tests find two workers again.
        from distributed import Client

        with Client(services.dask_address(), timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
