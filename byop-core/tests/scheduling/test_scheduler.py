"""The scheduler's contract, run over the sequential, thread and process back ends alike."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest
from support.objectives import (
    crashing_trial,
    fail_with_value_error,
    failing_trial,
    poly,
    readme_trial,
    silent_trial,
    sleep_for,
    sleepy_trial,
    square,
    success_after_exception,
    wrong_return_after_exception,
)

from byop.optimization import CrashReport, FailReport, RandomSearch, SuccessReport, Trial
from byop.scheduling import (
    CallCancelledError,
    ExitStatus,
    MaxTrials,
    MemoryLimitExceeded,
    NoImprovement,
    Predicate,
    Scheduler,
    SchedulerNotRunningError,
    TargetCost,
    Task,
    UnknownBackendError,
    WallTimeLimitExceeded,
)


def test_results_and_event_order(make_scheduler):
    scheduler = make_scheduler()
    task = Task(square, scheduler)
    seen = []

    @scheduler.on_start
    def start():
        seen.append("start")
        for x in range(5):
            task(x)

    @task.on_submitted
    def submitted(call):
        seen.append("submitted")

    @task.on_done
    def done(call):
        seen.append("done")

    @task.on_result
    def result(call, value):
        seen.append(("result", call.args[0], value))

    @scheduler.on_empty
    def empty():
        seen.append("empty")

    @scheduler.on_finishing
    def finishing():
        seen.append("finishing")

    @scheduler.on_finished
    def finished(status):
        seen.append(("finished", status))

    assert scheduler.run(timeout=30) is ExitStatus.EXHAUSTED
    results = sorted(x for x in seen if isinstance(x, tuple) and x[0] == "result")
    assert results == [("result", x, x * x) for x in range(5)]
    assert seen[0] == "start"
    assert seen.count("submitted") == 5
    assert seen.count("done") == 5
    assert seen[-3:] == ["empty", "finishing", ("finished", ExitStatus.EXHAUSTED)]
    # on_done comes before on_result for each call
    first_done = seen.index("done")
    assert all(not (isinstance(x, tuple) and x[0] == "result") for x in seen[:first_done])


def test_guide_loop_tells_every_report(make_scheduler):
    scheduler = make_scheduler()
    rs = RandomSearch(space={"x": (-10.0, 10.0)}, seed=1)
    task = Trial.Task(poly, scheduler, call_limit=30)
    reports = []

    @scheduler.on_start(repeat=2)
    def launch():
        task(rs.ask())

    @task.on_report
    def tell(report):
        rs.tell(report)
        reports.append(report)
        task(rs.ask())

    assert scheduler.run(timeout=30) is ExitStatus.EXHAUSTED
    assert len(reports) == 30
    assert all(isinstance(r, SuccessReport) for r in reports)
    assert len({r.trial.name for r in reports}) == 30
    for r in reports:
        x = r.trial.config["x"]
        assert r["cost"] == pytest.approx((x**2 + 4 * x + 3) / x)
        assert r.trial.report is r  # the report is attached to the very trial asked
    assert len(rs._pending) == 2  # the two asks after call_limit were never submitted


@pytest.mark.parametrize(
    ("objective", "kind", "event", "exception"),
    [
        (failing_trial, FailReport, "on_failure", ValueError),
        (crashing_trial, CrashReport, "on_crashed", RuntimeError),
        (silent_trial, CrashReport, "on_crashed", Exception),
    ],
    ids=["fail", "crash", "no-report"],
)
def test_trial_report_kinds(make_scheduler, objective, kind, event, exception):
    scheduler = make_scheduler()
    task = Trial.Task(objective, scheduler)
    got = {}

    @scheduler.on_start
    def start():
        task(Trial(name="t", config={"x": 1.0}))

    @task.on_report
    def report(r):
        got["report"] = r

    getattr(task, event)(lambda r: got.setdefault("event", r))
    scheduler.run(timeout=30)
    r = got["report"]
    assert isinstance(r, kind)
    assert got["event"] is r
    assert isinstance(r.exception, exception)
    assert r.traceback
    if objective is silent_trial:
        assert "returned without reporting" in str(r.exception)
    if objective is failing_trial:
        assert r["cost"] == float("inf")
        assert "objective failed" in r.traceback


@pytest.mark.parametrize(
    ("objective", "do", "exception", "limit_event"),
    [
        (readme_trial, "raise", ValueError, None),
        (readme_trial, "wall", WallTimeLimitExceeded, "on_wall_time_limit"),
        (success_after_exception, None, ValueError, None),
        (wrong_return_after_exception, None, ValueError, None),
    ],
    ids=["raise", "wall-time", "success-after-exception", "wrong-return-after-exception"],
)
def test_what_begin_caught_ends_the_trial_as_a_failure(
    make_scheduler, objective, do, exception, limit_event
):
    # The README's objective returns from inside begin() and has nothing after the block.
    scheduler = make_scheduler()
    task = Trial.Task(objective, scheduler, wall_time_limit=0.5)
    got = {"failure": [], "limit": []}

    @scheduler.on_start
    def start():
        task(Trial(name="t", config={"do": do}))

    task.on_report(lambda r: got.setdefault("report", r))
    task.on_failure(got["failure"].append)
    if limit_event is not None:
        getattr(task, limit_event)(lambda call, e: got["limit"].append(e))
    scheduler.run(timeout=60)
    r = got["report"]
    assert isinstance(r, FailReport), r
    assert got["failure"] == [r]
    assert isinstance(r.exception, exception)
    assert type(r.exception).__name__ in r.traceback
    if limit_event is not None:
        assert len(got["limit"]) == 1
        assert "0.5 s" in str(r.exception)
    else:
        assert "raised inside begin()" in r.traceback
    if objective is success_after_exception:
        assert "TrialFailedError" in r.traceback  # what the objective did after the block
    if objective is wrong_return_after_exception:
        assert "InvalidReportError" in r.traceback


def test_a_memory_limit_inside_begin_is_a_failure_with_its_event():
    scheduler = Scheduler.with_processes(1)
    task = Trial.Task(readme_trial, scheduler, memory_limit="100MB")
    got = []
    scheduler.on_start(lambda: task(Trial(name="t", config={"do": "memory", "limit": 10**8})))
    task.on_report(got.append)
    task.on_memory_limit(lambda call, e: got.append(e))
    scheduler.run(timeout=60)
    report, event = got
    assert isinstance(report, FailReport)
    assert isinstance(report.exception, MemoryLimitExceeded)
    assert event is report.exception


def test_infinity_is_no_limit_and_no_timeout_on_every_back_end(make_scheduler):
    scheduler = make_scheduler()
    inf = float("inf")
    task = Trial.Task(sleepy_trial, scheduler, wall_time_limit=inf, cpu_time_limit=inf)
    reports = []
    scheduler.on_start(lambda: task(Trial(name="t", config={"sleep": 0.05})))
    task.on_report(reports.append)
    assert scheduler.run(timeout=inf) is ExitStatus.EXHAUSTED
    assert [type(r) for r in reports] == [SuccessReport]


def test_task_exception_raises_by_default(make_scheduler):
    scheduler = make_scheduler()
    task = Task(fail_with_value_error, scheduler)
    scheduler.on_start(lambda: task(3))
    with pytest.raises(ValueError, match="bad 3"):
        scheduler.run(timeout=30)
    assert not scheduler.is_running


def test_task_exception_handled_by_on_exception_continues(make_scheduler):
    scheduler = make_scheduler()
    task = Task(fail_with_value_error, scheduler)
    caught = []
    scheduler.on_start(lambda: [task(i) for i in range(3)])
    task.on_exception(lambda call, e: caught.append(str(e)))
    assert scheduler.run(timeout=30) is ExitStatus.EXHAUSTED
    assert sorted(caught) == ["bad 0", "bad 1", "bad 2"]


def test_task_error_policy_end(make_scheduler):
    scheduler = make_scheduler(on_task_error={ValueError: "end"})
    task = Task(fail_with_value_error, scheduler)
    scheduler.on_start(lambda: task(1))
    assert scheduler.run(timeout=30) is ExitStatus.ERROR
    assert [type(e) for e in scheduler.errors] == [ValueError]


def test_callback_error_policies(make_scheduler):
    def boom():
        raise KeyError("callback bug")

    s = make_scheduler()
    s.on_start(boom)
    with pytest.raises(KeyError, match="callback bug"):
        s.run(timeout=30)

    s = make_scheduler(on_callback_error="continue")
    after = []
    s.on_start(boom)
    s.on_start(lambda: after.append("second callback still ran"))
    assert s.run(timeout=30) is ExitStatus.EXHAUSTED
    assert after == ["second callback still ran"]
    assert isinstance(s.errors[0], KeyError)

    s = make_scheduler(on_callback_error={KeyError: "end"})
    s.on_start(boom)
    assert s.run(timeout=30) is ExitStatus.ERROR


def test_subscription_options(make_scheduler):
    scheduler = make_scheduler()
    task = Task(square, scheduler)
    calls = {"repeat": 0, "max": 0, "when": [], "every": []}
    scheduler.on_start(repeat=3)(lambda: task(len(calls["when"])))

    @task.on_result(max_calls=2)
    def limited(call, value):
        calls["max"] += 1

    @task.on_result(when=lambda call, value: value == 0)
    def only_zero(call, value):
        calls["when"].append(value)

    @task.on_result(every=2)
    def every_other(call, value):
        calls["every"].append(value)

    scheduler.run(timeout=30)
    assert task.n_calls == 3
    assert calls["max"] == 2
    assert calls["when"] == [0, 0, 0]
    assert len(calls["every"]) == 1


def test_options_hold_when_an_event_is_called_as_a_function(make_scheduler):
    scheduler = make_scheduler()
    task = Task(square, scheduler)
    results = []
    scheduler.on_start(lambda: task(len(results)), repeat=3)
    task.on_result(lambda call, value: results.append(value), max_calls=2)
    scheduler.run(timeout=30)
    assert task.n_calls == 3
    assert len(results) == 2


def test_every_event_takes_options_in_every_form():
    def when(*args):
        return True

    scheduler = Scheduler.with_sequential()
    events = [
        *scheduler.events().values(),
        *Task(square, scheduler).events().values(),
        *Trial.Task(poly, scheduler).events().values(),
    ]
    assert len(events) > 20
    for event in events:
        event(lambda *a: None, repeat=3, max_calls=5, when=when, every=2)
        event(repeat=3, max_calls=5, when=when, every=2)(lambda *a: None)
        for sub in event.subscriptions:
            assert (sub.repeat, sub.max_calls, sub.when, sub.every) == (3, 5, when, 2), event


def test_callbacks_run_in_registration_order(make_scheduler):
    scheduler = make_scheduler()
    order = []
    for i in range(5):
        scheduler.on_start(lambda i=i: order.append(i))
    scheduler.run(timeout=30)
    assert order == [0, 1, 2, 3, 4]


def test_task_without_scheduler_uses_the_running_one(make_scheduler):
    scheduler = make_scheduler()
    task = Task(square)
    out = []
    scheduler.on_start(lambda: task(7))
    task.on_result(lambda call, v: out.append(v))
    scheduler.run(timeout=30)
    assert out == [49]
    with pytest.raises(SchedulerNotRunningError, match="no scheduler is running"):
        task(1)


def test_bound_task_outside_run_is_a_clear_error():
    scheduler = Scheduler.with_sequential()
    task = Task(square, scheduler)
    with pytest.raises(SchedulerNotRunningError, match="its scheduler is not running"):
        task(1)


def test_call_and_concurrent_limits(make_scheduler):
    scheduler = make_scheduler()
    task = Task(sleep_for, scheduler, call_limit=3, concurrent_limit=2)
    refused = {"call": 0, "concurrent": 0}
    task.on_call_limit(lambda call: refused.__setitem__("call", refused["call"] + 1))
    task.on_concurrent_limit(
        lambda call: refused.__setitem__("concurrent", refused["concurrent"] + 1)
    )

    @scheduler.on_start
    def start():
        for _ in range(3):
            task(0.05)

    @task.on_result
    def again(call, value):
        task(0.0)

    scheduler.run(timeout=30)
    assert task.n_calls == 3
    if make_scheduler.backend != "sequential":
        assert refused["concurrent"] >= 1  # the third call at start: two were running
    assert refused["call"] >= 1


def test_timeout_refuses_new_work_and_returns_promptly(make_scheduler):
    scheduler = make_scheduler()
    task = Trial.Task(sleepy_trial, scheduler)
    n = {"reports": 0}
    counter = iter(range(10**6))

    def launch(*_):
        task(Trial(name=f"t{next(counter)}", config={"sleep": 0.01}))

    scheduler.on_start(launch)
    task.on_report(launch)
    task.on_report(lambda r: n.__setitem__("reports", n["reports"] + 1))
    t0 = time.monotonic()
    assert scheduler.run(timeout=1.0) is ExitStatus.TIMEOUT
    assert time.monotonic() - t0 < 2.0
    assert n["reports"] == task.n_calls  # every submitted trial ended with one report
    assert scheduler.refused >= 1


def test_wait_false_ends_running_trials_with_a_crash_report(make_scheduler):
    if make_scheduler.backend == "sequential":
        pytest.skip("the sequential back end runs each call to its end")
    scheduler = make_scheduler()
    task = Trial.Task(sleepy_trial, scheduler)
    reports = []

    @scheduler.on_start
    def start():
        for i in range(2):
            task(Trial(name=f"long{i}", config={"sleep": 5.0}))

    task.on_report(reports.append)
    t0 = time.monotonic()
    assert scheduler.run(timeout=0.5, wait=False) is ExitStatus.TIMEOUT
    assert time.monotonic() - t0 < 1.5
    assert sorted(r.trial.name for r in reports) == ["long0", "long1"]
    for r in reports:
        assert isinstance(r, CrashReport)
        assert isinstance(r.exception, CallCancelledError)
        assert "stopped" in str(r.exception)


def test_a_call_that_cannot_be_stopped_says_it_runs_on(make_scheduler):
    scheduler = make_scheduler()
    task = Trial.Task(sleepy_trial, scheduler)
    reports = []
    scheduler.on_start(lambda: task(Trial(name="t", config={"sleep": 3.0})))
    task.on_report(reports.append)
    scheduler.run(timeout=0.5, wait=False)
    (report,) = reports
    if make_scheduler.backend == "sequential":  # the call ran to its end inside run()
        assert isinstance(report, SuccessReport)
        return
    assert isinstance(report.exception, CallCancelledError)
    running_on = make_scheduler.backend == "threads"
    assert report.exception.still_running is running_on
    assert ("runs on until it returns" in str(report.exception)) is running_on
    if running_on:
        assert all(t.daemon for t in scheduler.backend.executor.threads)


def test_stop_from_a_callback(make_scheduler):
    scheduler = make_scheduler()
    task = Task(square, scheduler)
    reasons = []
    scheduler.on_start(lambda: task(2))
    task.on_result(lambda call, v: scheduler.stop("enough"))
    scheduler.on_stop(reasons.append)
    assert scheduler.run(timeout=30) is ExitStatus.STOPPED
    assert reasons == ["enough"]
    assert scheduler.stop_reason == "enough"


def test_stop_from_another_thread(make_scheduler):
    if make_scheduler.backend == "sequential":
        pytest.skip("the sequential back end keeps the thread busy")
    scheduler = make_scheduler()
    task = Task(sleep_for, scheduler)
    started = threading.Event()

    @scheduler.on_start
    def start():
        task(0.2)
        started.set()

    task.on_result(lambda call, v: task(0.2))
    stopper = threading.Thread(target=lambda: started.wait(10) and scheduler.stop("other"))
    stopper.start()
    assert scheduler.run(timeout=30) is ExitStatus.STOPPED
    stopper.join()


@pytest.mark.parametrize(
    "criterion",
    [
        lambda: MaxTrials(10),
        lambda: TargetCost(-1e9) | MaxTrials(10),
        lambda: NoImprovement(5),
        lambda: Predicate(lambda r: r.trial.name == "rs-9"),
    ],
    ids=["max-trials", "any-of", "no-improvement", "predicate"],
)
def test_stop_criteria(make_scheduler, criterion):
    scheduler = make_scheduler()
    rs = RandomSearch(space={"x": (-10.0, 10.0)}, seed=0)
    task = Trial.Task(poly, scheduler)
    task.stop_when(criterion())
    reports = []
    scheduler.on_start(lambda: task(rs.ask()))
    task.on_report(reports.append)
    task.on_report(lambda r: task(rs.ask()))
    assert scheduler.run(timeout=60) is ExitStatus.STOPPED
    assert "stop criterion met" in scheduler.stop_reason
    assert len(reports) >= 6


def test_target_cost_maximising():
    c = TargetCost(0.9, metric="acc", minimize=False)
    t = Trial(name="a", config={})
    c.update(t.success(acc=0.95))
    assert c.met()


def test_async_run(make_scheduler):
    scheduler = make_scheduler()
    task = Task(square, scheduler)
    out = []
    scheduler.on_start(lambda: [task(i) for i in range(4)])
    task.on_result(lambda call, v: out.append(v))

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        status = await scheduler.async_run(timeout=30)
        t.cancel()
        return status, ticks

    status, ticks = asyncio.run(main())
    assert status is ExitStatus.EXHAUSTED
    assert sorted(out) == [0, 1, 4, 9]
    assert ticks > 0  # the loop was free while the scheduler ran


def test_submit_adhoc(make_scheduler):
    scheduler = make_scheduler()
    calls = []
    scheduler.on_start(lambda: calls.append(scheduler.submit(square, 6)))
    scheduler.run(timeout=30)
    assert calls[0].value == 36


def test_run_twice(make_scheduler):
    scheduler = make_scheduler()
    task = Task(square, scheduler)
    out = []
    scheduler.on_start(lambda: task(3))
    task.on_result(lambda call, v: out.append(v))
    scheduler.run(timeout=30)
    scheduler.run(timeout=30)
    assert out == [9, 9]


def test_with_backend_by_name_and_unknown_name(monkeypatch):
    from byop import plugins

    for name in ("sequential", "threads", "processes"):
        s = Scheduler.with_backend(name)
        assert s.backend.name == name
    s = Scheduler.with_backend("processes", n_workers=3)
    assert s.backend.n_workers == 3
    # As without byop[ray] installed: its plugin does not load.
    monkeypatch.setenv(plugins.BLOCK_ENV, "broken,ray")
    plugins.reset()
    try:
        with pytest.raises(UnknownBackendError, match=r"'processes'.*pip install byop\[ray\]"):
            Scheduler.with_backend("ray")
    finally:
        monkeypatch.undo()
        plugins.reset()


def test_user_executor_is_left_running():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as ex:
        scheduler = Scheduler(ex)
        task = Task(square, scheduler)
        out = []
        scheduler.on_start(lambda: task(4))
        task.on_result(lambda call, v: out.append(v))
        scheduler.run(timeout=30)
        assert out == [16]
        assert ex.submit(square, 5).result() == 25  # still usable


def test_bad_arguments():
    with pytest.raises(TypeError, match="runs a function"):
        Task(42)
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        Scheduler(object())
    with pytest.raises(ValueError, match="repeat"):
        Scheduler.with_sequential().on_start(repeat=0)(lambda: None)
    with pytest.raises(TypeError, match="runs trials"):
        s = Scheduler.with_sequential()
        t = Trial.Task(poly, s)
        s.on_start(lambda: t({"x": 1}))
        s.run()


def test_wait_false_with_nothing_running_still_stops_the_back_end(make_scheduler):
    import psutil

    scheduler = make_scheduler()
    task = Task(square, scheduler)
    scheduler.on_start(lambda: task(2))
    assert scheduler.run(timeout=30, wait=False) is ExitStatus.EXHAUSTED
    assert psutil.Process().children(recursive=True) == []


def test_lambda_and_local_functions_run_on_processes():
    scheduler = Scheduler.with_processes(1)
    offset = 10

    def local(x):
        return x + offset

    out = []
    lam = Task(lambda x: x * 3, scheduler)
    loc = Task(local, scheduler)
    scheduler.on_start(lambda: (lam(2), loc(5)))
    lam.on_result(lambda call, v: out.append(v))
    loc.on_result(lambda call, v: out.append(v))
    scheduler.run(timeout=30)
    assert sorted(out) == [6, 15]


def test_unpicklable_function_is_a_clear_error_at_submit():
    from byop.scheduling import NotPicklableError

    lock = threading.Lock()

    def holds_a_lock(x):
        with lock:
            return x

    scheduler = Scheduler.with_processes(1)
    task = Task(holds_a_lock, scheduler)
    scheduler.on_start(lambda: task(1))
    t0 = time.monotonic()
    with pytest.raises(NotPicklableError, match=r"holds_a_lock.*cannot be sent.*lock"):
        scheduler.run(timeout=30)
    assert time.monotonic() - t0 < 10  # an error, not a hang


def test_unpicklable_argument_is_a_clear_error_at_submit():
    from byop.scheduling import NotPicklableError

    scheduler = Scheduler.with_processes(1)
    task = Task(square, scheduler)
    scheduler.on_start(lambda: task(threading.Lock()))
    with pytest.raises(NotPicklableError, match="arguments of square"):
        scheduler.run(timeout=30)


def test_an_unpicklable_objective_is_named_in_the_error(make_scheduler):
    from byop.scheduling import NotPicklableError

    if make_scheduler.backend in ("sequential", "threads"):
        pytest.skip("nothing is pickled: the objective runs in this process")
    lock = threading.Lock()

    def objective_with_a_lock(trial):
        with lock:
            return trial.success(cost=1.0)

    scheduler = make_scheduler()
    task = Trial.Task(objective_with_a_lock, scheduler)
    scheduler.on_start(lambda: task(Trial(name="t", config={})))
    with pytest.raises(NotPicklableError, match=r"objective_with_a_lock .*cannot be sent") as e:
        scheduler.run(timeout=60)
    assert "TrialRunner" not in str(e.value)


def test_a_worker_that_dies_under_a_memory_limit_says_the_limit_was_probably_too_small(
    make_scheduler,
):
    from support.objectives import faulty_trial

    from byop.scheduling import WorkerDiedError

    if make_scheduler.backend in ("sequential", "threads"):
        pytest.skip("no worker process to die: the trial runs in this process")
    scheduler = make_scheduler()
    task = Trial.Task(faulty_trial, scheduler, memory_limit="64MB")
    reports = []
    scheduler.on_start(lambda: task(Trial(name="t", config={"fault": "exit"})))
    task.on_report(reports.append)
    scheduler.run(timeout=60)
    (report,) = reports
    assert isinstance(report, CrashReport)
    assert isinstance(report.exception, WorkerDiedError)
    assert "memory limit of 64 MB, which was probably too small" in str(report.exception)


def test_importing_numpy_under_a_tiny_memory_limit_is_explained():
    from support.objectives import imports_numpy

    from byop.scheduling import WorkerDiedError

    # A fresh interpreter, so that numpy is not imported already.
    scheduler = Scheduler.with_processes(1, start_method="exec")
    task = Trial.Task(imports_numpy, scheduler, memory_limit="64MB")
    reports = []
    scheduler.on_start(lambda: task(Trial(name="t", config={})))
    task.on_report(reports.append)
    scheduler.run(timeout=60)
    (report,) = reports
    if isinstance(report, CrashReport):  # OpenBLAS ended the process
        assert isinstance(report.exception, WorkerDiedError)
        assert "memory limit of 64 MB, which was probably too small" in str(report.exception)
    else:  # the import itself ran out, in Python
        assert isinstance(report, FailReport)
        assert isinstance(report.exception, MemoryLimitExceeded)


def test_a_run_leaves_no_process_of_its_trials_behind(make_scheduler, tmp_path):
    import psutil
    from support.objectives import faulty_trial

    scheduler = make_scheduler()
    task = Trial.Task(faulty_trial, scheduler)
    paths = [tmp_path / f"child{i}.pid" for i in range(2)]
    reports = []
    scheduler.on_start(
        lambda: [
            task(Trial(name=p.stem, config={"fault": "grandchild", "path": str(p)})) for p in paths
        ]
    )
    task.on_report(reports.append)
    scheduler.run(timeout=60)
    assert [type(r) for r in reports] == [SuccessReport, SuccessReport]
    for path in paths:
        pid = int(path.read_text())  # a process the trial started, and left running
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", pid


def test_each_trial_starts_in_the_workers_directory_and_environment(make_scheduler, tmp_path):
    from support.objectives import changes_where_it_runs

    if make_scheduler.backend == "threads":
        pytest.skip("threads share the process's directory and environment (documented)")
    if make_scheduler.backend == "processes":
        scheduler = Scheduler.with_processes(1)  # both trials in the one worker
    else:
        scheduler = make_scheduler()
    task = Trial.Task(changes_where_it_runs, scheduler)
    reports = []
    here, environ = os.getcwd(), dict(os.environ)

    @scheduler.on_start
    def start():
        task(Trial(name="first", config={"to": str(tmp_path)}))

    @task.on_report
    def then(report):
        reports.append(report)
        if len(reports) == 1:
            task(Trial(name="second", config={"to": str(tmp_path)}))

    scheduler.run(timeout=60)
    first, second = reports
    assert second["cwd"] == first["cwd"] != str(tmp_path)
    assert second["leak"] is None
    assert (os.getcwd(), dict(os.environ)) == (here, environ)  # nor for this process
