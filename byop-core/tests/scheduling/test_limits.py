"""Per-trial limits and crash isolation on the process back end: one case per test.

Each faulty trial runs beside healthy trials (two workers); the healthy ones must finish
normally, the faulty one must get its own report within its bound, and no process of the run
may be left once ``run()`` returns.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import psutil
import pytest
from support.objectives import faulty_trial, sleep_for

from byop.optimization import CrashReport, FailReport, SuccessReport, Trial
from byop.scheduling import (
    CPUTimeLimitExceeded,
    ExitStatus,
    Limits,
    MemoryLimitExceeded,
    Scheduler,
    Task,
    WallTimeLimitExceeded,
    WorkerDiedError,
    parse_memory,
)

MB = 1000**2


def run_with_healthy(fault_config, *, n_healthy=6, **limits):
    """Run one faulty trial among healthy ones on 2 workers; return reports and timings."""
    scheduler = Scheduler.with_processes(2)
    task = Trial.Task(faulty_trial, scheduler, **limits)
    reports = {}
    started = {}
    ended = {}

    @scheduler.on_start
    def start():
        faulty = Trial(name="faulty", config=fault_config)
        started["faulty"] = time.monotonic()
        task(faulty)
        for i in range(n_healthy):
            task(Trial(name=f"ok{i}", config={"sleep": 0.05}))

    @task.on_report
    def collect(report):
        ended[report.trial.name] = time.monotonic()
        reports[report.trial.name] = report

    me = psutil.Process()
    status = scheduler.run(timeout=60)
    assert status is ExitStatus.EXHAUSTED
    assert me.children(recursive=True) == [], "a process of the run was left behind"
    assert len(reports) == n_healthy + 1  # exactly one report per trial
    for i in range(n_healthy):
        assert isinstance(reports[f"ok{i}"], SuccessReport), reports[f"ok{i}"]
    return reports["faulty"], ended["faulty"] - started["faulty"], task


def test_memory_limit():
    limit = 100 * MB
    report, _, _ = run_with_healthy({"fault": "memory", "limit": limit}, memory_limit="100MB")
    assert isinstance(report, FailReport)
    assert isinstance(report.exception, MemoryLimitExceeded)
    assert isinstance(report.exception, MemoryError)
    assert "100 MB" in str(report.exception)


def test_cpu_time_limit_fires_the_limit_event():
    scheduler = Scheduler.with_processes(2)
    task = Trial.Task(faulty_trial, scheduler, cpu_time_limit=0.5)
    fired = []
    task.on_cpu_time_limit(lambda call, e: fired.append(e))
    reports = []
    scheduler.on_start(lambda: task(Trial(name="spin", config={"fault": "cpu", "seconds": 30})))
    task.on_report(reports.append)
    t0 = time.monotonic()
    scheduler.run(timeout=60)
    assert time.monotonic() - t0 < 0.5 + 1.5
    (report,) = reports
    assert isinstance(report, FailReport)
    assert isinstance(report.exception, CPUTimeLimitExceeded)
    assert isinstance(report.exception, TimeoutError)
    assert len(fired) == 1


def test_cpu_time_limit_beside_healthy_trials():
    report, elapsed, _ = run_with_healthy({"fault": "cpu", "seconds": 30}, cpu_time_limit=0.5)
    assert isinstance(report.exception, CPUTimeLimitExceeded)
    assert elapsed < 0.5 * 2 + 1.5  # two workers share two cores with the test's own process


def test_wall_time_limit_sleeping_and_ignoring_sigterm():
    report, elapsed, _ = run_with_healthy({"fault": "wall"}, wall_time_limit=1.0)
    assert isinstance(report, FailReport)
    assert isinstance(report.exception, WallTimeLimitExceeded)
    assert elapsed <= 1.0 + 0.5


def test_wall_time_limit_blocked_in_c_with_signals_blocked():
    report, elapsed, _ = run_with_healthy({"fault": "block"}, wall_time_limit=1.0)
    assert isinstance(report, FailReport)
    assert isinstance(report.exception, WallTimeLimitExceeded)
    assert "killed" in str(report.exception)
    assert elapsed <= 1.0 + 0.5


@pytest.mark.parametrize(
    ("fault", "signal_name", "exitcode"),
    [("exit", None, 1), ("sigkill", "SIGKILL", None), ("segfault", "SIGSEGV", None)],
)
def test_a_dying_worker_costs_one_trial(fault, signal_name, exitcode):
    report, _, _ = run_with_healthy({"fault": fault})
    assert isinstance(report, CrashReport)
    error = report.exception
    assert isinstance(error, WorkerDiedError)
    assert error.signal == signal_name
    assert error.exitcode == exitcode
    text = str(error)
    assert (signal_name or "exited with code 1") in text


def test_grandchild_processes_end_with_the_trial(tmp_path):
    path = tmp_path / "grandchild.pid"
    report, _, _ = run_with_healthy({"fault": "grandchild", "path": str(path)})
    assert isinstance(report, SuccessReport)
    pid = int(path.read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_plain_task_limit_raises_the_limit_exception():
    scheduler = Scheduler.with_processes(1)
    task = Task(sleep_for, scheduler, wall_time_limit=0.3)
    errors = []
    task.on_exception(lambda call, e: errors.append(e))
    task.on_wall_time_limit(lambda call, e: errors.append("event"))
    scheduler.on_start(lambda: task(30))
    scheduler.run(timeout=30)
    assert isinstance(errors[0], WallTimeLimitExceeded)
    assert errors[1] == "event"


@pytest.mark.parametrize("backend", ["sequential", "threads"])
def test_limits_in_process_back_ends(backend):
    scheduler = Scheduler.with_backend(backend)
    task = Trial.Task(faulty_trial, scheduler, wall_time_limit=0.5, cpu_time_limit=0.5)
    reports = []
    scheduler.on_start(lambda: task(Trial(name="spin", config={"fault": "cpu", "seconds": 30})))
    task.on_report(reports.append)
    scheduler.run(timeout=30)
    (report,) = reports
    assert isinstance(report, FailReport)
    assert isinstance(report.exception, TimeoutError)


def test_fault_soak():
    """n trials, 5% of which die in assorted ways: n reports, 0.95 n successes."""
    n = 100
    faults = ["exit", "sigkill", "segfault", "exit", "sigkill"]
    faulty = {i * (n // len(faults)) + 3: f for i, f in enumerate(faults)}
    scheduler = Scheduler.with_processes(2)
    task = Trial.Task(faulty_trial, scheduler)
    reports = []
    it = iter(range(n))

    def launch(*_):
        i = next(it, None)
        if i is not None:
            config = {"fault": faulty[i]} if i in faulty else {}
            task(Trial(name=f"t{i}", config=config))

    scheduler.on_start(repeat=2)(launch)
    task.on_report(reports.append)
    task.on_report(launch)
    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    assert len(reports) == n
    assert len({r.trial.name for r in reports}) == n
    assert sum(isinstance(r, SuccessReport) for r in reports) == n - len(faulty)
    assert psutil.Process().children(recursive=True) == []


def test_parse_memory():
    assert parse_memory(1024) == 1024
    assert parse_memory("512MB") == 512 * MB
    assert parse_memory("1.5 GiB") == int(1.5 * 2**30)
    with pytest.raises(ValueError, match="Cannot read memory_limit"):
        parse_memory("lots")
    with pytest.raises(ValueError, match="positive"):
        parse_memory(0)


def test_limit_values_are_checked():
    with pytest.raises(ValueError, match="wall_time_limit must be a positive"):
        Task(sleep_for, wall_time_limit=-1)


@pytest.mark.parametrize(
    ("limits", "error", "match"),
    [
        ({"memory_limit": (1, "GB")}, TypeError, r"memory_limit must be bytes .*got tuple"),
        ({"memory_limit": float("nan")}, ValueError, "memory_limit must be a positive"),
        ({"memory_limit": -math.inf}, ValueError, "memory_limit must be a positive"),
        ({"memory_limit": "99999999999TB"}, ValueError, r"at most 2\*\*60 bytes"),
        ({"wall_time_limit": float("nan")}, ValueError, "wall_time_limit must be a positive"),
        ({"wall_time_limit": 1e300}, ValueError, r"at most 1e\+09 seconds.*no limit"),
        ({"cpu_time_limit": "5"}, TypeError, "cpu_time_limit must be a positive number"),
        ({"cpu_time_limit": True}, TypeError, "cpu_time_limit must be a positive number"),
    ],
)
def test_a_limit_that_cannot_be_enforced_is_refused_when_the_task_is_made(limits, error, match):
    with pytest.raises(error, match=match):
        Trial.Task(faulty_trial, **limits)


def test_infinity_is_no_limit():
    task = Trial.Task(
        faulty_trial, memory_limit=math.inf, cpu_time_limit=math.inf, wall_time_limit=math.inf
    )
    assert task.limits is None
    assert Limits.of(np.float64(2.5e8), np.int64(3)) == Limits(250_000_000, 3.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Scheduler.with_threads("2"),
        lambda: Scheduler.with_threads(0),
        lambda: Scheduler.with_processes(1.5),
        lambda: Scheduler.with_processes("2"),
        lambda: Scheduler.with_backend("threads", n_workers="2"),
        lambda: Scheduler.with_sequential().run(timeout=float("nan")),
    ],
    ids=["threads-str", "threads-zero", "processes-float", "processes-str", "by-name", "nan"],
)
def test_worker_counts_and_timeouts_are_checked(make):
    with pytest.raises(ValueError, match=r"(n_workers must be a positive int|timeout must be)"):
        make()


def test_worker_pids_are_not_ours():
    # Workers run in their own process groups, so Ctrl-C reaches only the main process.
    scheduler = Scheduler.with_processes(2)
    groups = []

    @scheduler.on_start
    def start():
        groups.extend(os.getpgid(pid) for pid in scheduler.backend.pids)

    scheduler.run()
    assert groups
    assert os.getpgid(0) not in groups


def test_loading_the_function_does_not_count_against_the_wall_time_limit():
    # The objective takes 1.5 s to unpickle in the worker (slow imports) and no time to run:
    # its limit of 0.5 s starts when the call does, not when the worker got it.
    from support.objectives import slow_to_load_trial

    scheduler = Scheduler.with_processes(1)
    task = Trial.Task(slow_to_load_trial(1.5), scheduler, wall_time_limit=0.5, cpu_time_limit=0.5)
    reports = []
    scheduler.on_start(lambda: [task(Trial(name=f"t{i}", config={})) for i in range(2)])
    task.on_report(reports.append)
    assert scheduler.run(timeout=60) is ExitStatus.EXHAUSTED
    assert [type(r).__name__ for r in reports] == ["SuccessReport", "SuccessReport"], reports
