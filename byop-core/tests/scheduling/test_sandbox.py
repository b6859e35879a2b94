"""Sandboxes (byop's process guarantees inside other engines' workers) and start methods."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from support import objectives
from support.objectives import sleep_for, square

from byop.scheduling import (
    CallCancelledError,
    CPUTimeLimitExceeded,
    Limits,
    MemoryLimitExceeded,
    NotPicklableError,
    PackedFunction,
    Sandbox,
    Scheduler,
    Task,
    WallTimeLimitExceeded,
    WorkerDiedError,
    pack_call,
    run_packed,
    unpickle_outcome,
)
from byop.scheduling._sandbox import thread_sandbox

MB = 1000**2


@pytest.fixture
def sandbox():
    box = Sandbox()
    yield box
    box.close()
    assert psutil.Process().children(recursive=True) == []


def packed(fn, **limits):
    return PackedFunction.of(fn, limits=Limits.of(**limits) if limits else None)


def test_runs_calls_in_a_child_that_stays(sandbox):
    assert sandbox.run(packed(square), (3,), None) == (True, 9, None)
    pid = sandbox.pid
    assert pid is not None and pid != os.getpid()
    assert sandbox.run(packed(square), (4,), {}) == (True, 16, None)
    assert sandbox.pid == pid  # one child, reused


def test_exceptions_come_back_with_their_traceback(sandbox):
    ok, error, tb = sandbox.run(packed(objectives.fail_with_value_error), (5,), None)
    assert not ok
    assert isinstance(error, ValueError)
    assert "bad 5" in tb


@pytest.mark.parametrize(
    ("fault", "signal_name"), [("_segfault", "SIGSEGV"), ("_sigkill_self", "SIGKILL")]
)
def test_a_dying_child_fails_only_its_call(sandbox, fault, signal_name):
    sandbox.run(packed(square), (1,), None)
    first = sandbox.pid
    ok, error, _ = sandbox.run(packed(getattr(objectives, fault)), (), None)
    assert not ok
    assert isinstance(error, WorkerDiedError)
    assert error.signal == signal_name
    assert fault in str(error)  # the message names the function
    assert sandbox.run(packed(square), (2,), None) == (True, 4, None)
    assert sandbox.pid != first  # a fresh child


def test_limits_hold_and_hard_kills_take_the_child(sandbox):
    # The child is started first: a limit counts from when the call starts, not the child.
    assert sandbox.run(packed(square), (1,), None) == (True, 1, None)
    t0 = time.monotonic()
    ok, error, _ = sandbox.run(packed(objectives._block_in_c, wall_time_limit=0.5), (), None)
    assert not ok
    assert isinstance(error, WallTimeLimitExceeded)
    assert "killed" in str(error)
    assert time.monotonic() - t0 < 0.5 + 1.5

    ok, error, _ = sandbox.run(packed(objectives._spin, cpu_time_limit=0.3), (30,), None)
    assert isinstance(error, CPUTimeLimitExceeded)

    limit = 100 * MB
    ok, error, _ = sandbox.run(
        packed(objectives._allocate_twice, memory_limit=limit), (limit,), None
    )
    assert isinstance(error, MemoryLimitExceeded)
    assert sandbox.run(packed(square), (5,), None) == (True, 25, None)


def test_cancelled_calls_kill_the_child(sandbox):
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    ok, error, _ = sandbox.run(packed(sleep_for), (60,), None, cancelled=stop.is_set, poll=0.05)
    assert not ok
    assert isinstance(error, CallCancelledError)
    assert time.monotonic() - t0 < 2.0
    assert sandbox.pid is None


def test_unpicklable_arguments_and_results(sandbox):
    lock = threading.Lock()
    ok, error, _ = sandbox.run(packed(square), (lock,), None)
    assert isinstance(error, NotPicklableError)
    ok, error, _ = sandbox.run(packed(objectives.return_a_lock), (), None)
    assert not ok
    assert isinstance(error, NotPicklableError)
    assert "cannot be sent back" in str(error)
    assert sandbox.run(packed(lambda x: x + 1), (1,), None) == (True, 2, None)


def test_only_bytes_pass_through_the_engine_side():
    call = pack_call(packed(square), (3,), None)
    assert isinstance(call, bytes)
    out = run_packed(call, where="an engine worker")
    assert isinstance(out, bytes)
    assert unpickle_outcome(out) == (True, 9, None)
    out = run_packed(pack_call(packed(objectives._segfault), (), None), where="worker w1")
    ok, error, _ = unpickle_outcome(out)
    assert not ok
    assert isinstance(error, WorkerDiedError)
    assert "(the sandbox process of worker w1)" in str(error)
    thread_sandbox().close()


def test_calls_without_limits_may_run_in_the_engine_worker_itself():
    here = run_packed(pack_call(packed(objectives.where_am_i), (), None), sandbox="limits")
    limited = pack_call(packed(objectives.where_am_i, wall_time_limit=30), (), None)
    there = run_packed(limited, sandbox="limits")
    assert unpickle_outcome(here)[1][0] == os.getpid()
    assert unpickle_outcome(there)[1][0] == thread_sandbox().pid != os.getpid()
    thread_sandbox().close()


def test_packed_functions():
    a = PackedFunction.of(square, limits=Limits(wall_time=1.0))
    b = PackedFunction.of(square, limits=Limits(wall_time=2.0))
    c = PackedFunction.of(square, limits=Limits(wall_time=1.0), wrapped=False)
    assert len({a.key, b.key, c.key}) == 3
    assert c.applied_limits is None and c.limits == Limits(wall_time=1.0)
    clone = pickle.loads(pickle.dumps(a))
    assert (clone.key, clone(7)) == (a.key, 49)
    assert "square" in repr(a)
    with pytest.raises(NotPicklableError):
        PackedFunction.of(threading.Lock(), limits=None)


def test_the_child_is_replaced_past_max_functions():
    box = Sandbox(max_functions=2)
    try:
        for n in range(3):
            fn = PackedFunction.of(square, limits=Limits(wall_time=10.0 + n))
            assert box.run(fn, (n,), None) == (True, n * n, None)
        assert len(box._functions) == 1
    finally:
        box.close()


def test_a_thread_sandbox_ends_with_its_thread():
    children = []

    def work():
        thread_sandbox().run(packed(square), (2,), None)
        children.append(psutil.Process(thread_sandbox().pid))

    t = threading.Thread(target=work)
    t.start()
    t.join()
    _, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []


_START_METHOD_RUN = """
import sys
import psutil
from support.objectives import faulty_trial
from byop.optimization import Trial
from byop.scheduling import ProcessBackend, Scheduler

if __name__ == "__main__":
    scheduler = Scheduler(ProcessBackend(2, start_method=sys.argv[1]))
    task = Trial.Task(faulty_trial, scheduler, wall_time_limit=1.0)
    reports = {}

    @scheduler.on_start
    def start():
        task(Trial(name="ok", config={}))
        task(Trial(name="killed", config={"fault": "sigkill"}))
        task(Trial(name="blocked", config={"fault": "block"}))

    task.on_report(lambda r: reports.setdefault(r.trial.name, r))
    scheduler.run(timeout=60)
    helpers = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
    left = [
        p for p in psutil.Process().children(recursive=True)
        if not any(h in " ".join(p.cmdline()) for h in helpers)
    ]
    for name in ("ok", "killed", "blocked"):
        r = reports[name]
        print(name, type(r).__name__, type(r.exception).__name__)
    print("left", len(left))
"""


@pytest.mark.parametrize("start_method", ["spawn", "forkserver", "exec"])
def test_every_start_method_keeps_the_guarantees(start_method, tmp_path):
    # In a script of its own: spawn and forkserver leave multiprocessing's helper processes
    # running for the life of the process that used them.
    script = tmp_path / "run.py"
    script.write_text(_START_METHOD_RUN)
    tests = str(Path(objectives.__file__).parents[1])
    proc = subprocess.run(
        [sys.executable, str(script), start_method],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": tests},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "ok SuccessReport NoneType",
        "killed CrashReport WorkerDiedError",
        "blocked FailReport WallTimeLimitExceeded",
        "left 0",
    ]


def ProcessBackendFor(start_method):
    from byop.scheduling import ProcessBackend

    return ProcessBackend(2, start_method=start_method)


def test_exec_workers_run_functions_from_any_module():
    # A fresh interpreter imports nothing of __main__, and gets this process's sys.path.
    scheduler = Scheduler(ProcessBackendFor("exec"))
    task = Task(square, scheduler)
    out = []
    scheduler.on_start(lambda: task(12))
    task.on_result(lambda call, value: out.append(value))
    scheduler.run(timeout=30)
    assert out == [144]
