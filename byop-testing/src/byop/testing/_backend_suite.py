"""The conformance suite every back end runs: byop's own, Dask, Ray, Slurm, and yours."""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from byop.optimization import CrashReport, FailReport, Report, SuccessReport, Trial
from byop.scheduling import (
    CallCancelledError,
    CPUTimeLimitExceeded,
    ExitStatus,
    MemoryLimitExceeded,
    Scheduler,
    Task,
    WallTimeLimitExceeded,
    WorkerDiedError,
)
from byop.testing._calls import (
    MB,
    faulty_trial,
    raise_value_error,
    sleep_for,
    square,
    trial_of_kind,
)


class BackendConformance:
    """A pytest base class: subclass it and the whole suite runs against your back end.

    Set ``backend_name`` to the name your plugin registers (the suite then creates schedulers
    with ``Scheduler.with_backend(name, n_workers=..., **backend_options)``, which also proves
    the registration and the factory's contract), or override `create`. Switch off what your
    back end does not claim with the flags below, and say why in your docs.

    Example:
        ```python
        from byop.testing import BackendConformance

        class TestThreads(BackendConformance):
            backend_name = "threads"
            isolates_crashes = False  # a call runs in this process: os._exit ends it all
            stops_running_calls = False  # a thread cannot be stopped from outside
            ends_call_processes = False
        ```

    Attributes:
        backend_name: The registered name, or ``None`` when `create` is overridden.
        backend_options: Keyword options for the back end's factory.
        n_workers: How many calls run at once.
        isolates_crashes: A call that ends its worker process costs that call alone
            (`WorkerDiedError` in its `CrashReport`), and the run goes on.
        enforces_memory_limit: A call past its ``memory_limit`` fails with
            `MemoryLimitExceeded` (``False`` where the platform cannot bound a call's memory).
        enforces_cpu_time_limit: Likewise `CPUTimeLimitExceeded` for ``cpu_time_limit``.
        enforces_wall_time_limit: Likewise `WallTimeLimitExceeded` for ``wall_time_limit``.
        stops_running_calls: ``run(wait=False)`` ends a running call at once, with
            `CallCancelledError` (a thread back end can only discard its result later).
        ends_call_processes: The processes a call starts end with the call.
        latency: Seconds of scheduling latency to allow on top of every time bound.
    """

    backend_name: ClassVar[str | None] = None
    backend_options: ClassVar[Mapping[str, Any]] = {}
    n_workers: ClassVar[int] = 2
    isolates_crashes: ClassVar[bool] = True
    enforces_memory_limit: ClassVar[bool] = True
    enforces_cpu_time_limit: ClassVar[bool] = True
    enforces_wall_time_limit: ClassVar[bool] = True
    stops_running_calls: ClassVar[bool] = True
    ends_call_processes: ClassVar[bool] = True
    latency: ClassVar[float] = 2.0

    RUN_TIMEOUT: ClassVar[float] = 120.0
    """The bound on every run of the suite: a hung back end fails, it never blocks CI."""

    # ------------------------------------------------------------------ to override
    def create(self) -> Scheduler:
        """A fresh scheduler over the back end under test."""
        if self.backend_name is None:
            raise TypeError(
                f"{type(self).__name__} must set backend_name to a registered back end, or "
                "override create() to return a Scheduler over it."
            )
        return Scheduler.with_backend(
            self.backend_name, n_workers=self.n_workers, **dict(self.backend_options)
        )

    # ------------------------------------------------------------------ helpers
    def _trials(
        self, configs: list[Any], **limits: Any
    ) -> tuple[ExitStatus, dict[str, Report[Any]], Trial.Task]:
        """Run one trial per config (named ``t0``, ``t1``...); their reports by name."""
        scheduler = self.create()
        task = Trial.Task(faulty_trial, scheduler, **limits)
        reports: dict[str, Report[Any]] = {}

        @scheduler.on_start
        def launch() -> None:
            for i, config in enumerate(configs):
                task(Trial(name=f"t{i}", config=config))

        @task.on_report
        def collect(report: Report[Any]) -> None:
            assert report.trial.name not in reports, f"{report.trial.name} reported twice"
            reports[report.trial.name] = report

        status = scheduler.run(timeout=self.RUN_TIMEOUT)
        assert not scheduler.is_running
        assert set(reports) == {f"t{i}" for i in range(len(configs))}, (
            "every submitted trial ends with exactly one report"
        )
        return status, reports, task

    def _healthy(self, reports: dict[str, Report[Any]], names: list[str]) -> None:
        for name in names:
            assert isinstance(reports[name], SuccessReport), reports[name]

    # ------------------------------------------------------------------ the suite
    def test_registered_under_its_name(self) -> None:
        if self.backend_name is None:
            pytest.skip("create() is overridden; no registered name to check")
        from byop.plugins import available

        assert self.backend_name in available("backends")
        scheduler = self.create()
        assert isinstance(scheduler.backend.name, str)
        assert scheduler.backend.name

    def test_submit_and_results(self) -> None:
        scheduler = self.create()
        task = Task(square, scheduler)
        results: dict[int, int] = {}

        @scheduler.on_start
        def launch() -> None:
            for x in range(8):
                task(x)

        task.on_result(lambda call, value: results.__setitem__(call.args[0], value))
        assert scheduler.run(timeout=self.RUN_TIMEOUT) is ExitStatus.EXHAUSTED
        assert results == {x: x * x for x in range(8)}
        assert task.n_running == 0

    def test_exceptions_come_back_with_type_message_and_traceback(self) -> None:
        scheduler = self.create()
        task = Task(raise_value_error, scheduler)
        errors: list[tuple[BaseException, str | None]] = []
        task.on_exception(lambda call, error: errors.append((error, call.traceback)))
        scheduler.on_start(lambda: task(3))
        assert scheduler.run(timeout=self.RUN_TIMEOUT) is ExitStatus.EXHAUSTED
        ((error, tb),) = errors
        assert isinstance(error, ValueError)
        assert str(error) == "bad 3"
        assert tb is not None
        assert "raise_value_error" in tb

    def test_trial_reports_of_every_kind(self) -> None:
        scheduler = self.create()
        task = Trial.Task(trial_of_kind, scheduler)
        reports: dict[str, Report[Any]] = {}

        @scheduler.on_start
        def launch() -> None:
            for kind in ("success", "fail", "crash", "silent"):
                task(Trial(name=kind, config={"kind": kind, "x": 2.0}))

        task.on_report(lambda report: reports.__setitem__(report.trial.name, report))
        assert scheduler.run(timeout=self.RUN_TIMEOUT) is ExitStatus.EXHAUSTED
        assert isinstance(reports["success"], SuccessReport)
        assert reports["success"]["cost"] == 2.0
        assert isinstance(reports["fail"], FailReport)
        assert isinstance(reports["fail"].exception, ValueError)
        assert reports["fail"].traceback
        assert isinstance(reports["crash"], CrashReport)
        assert isinstance(reports["crash"].exception, RuntimeError)
        assert isinstance(reports["silent"], CrashReport)
        for report in reports.values():
            assert report.trial.report is report

    def test_a_dying_worker_costs_one_call(self) -> None:
        if not self.isolates_crashes:
            pytest.skip("calls run in this process: a call that ends it ends the run")
        configs = [{"fault": "exit"}] + [{"sleep": 0.05} for _ in range(5)]
        status, reports, _ = self._trials(configs)
        assert status is ExitStatus.EXHAUSTED
        report = reports["t0"]
        assert isinstance(report, CrashReport)
        assert isinstance(report.exception, WorkerDiedError), report.exception
        self._healthy(reports, [f"t{i}" for i in range(1, 6)])

    def test_memory_limit(self) -> None:
        if not self.enforces_memory_limit:
            pytest.skip("the back end does not enforce memory limits")
        limit = 100 * MB
        configs = [{"fault": "memory", "limit": limit}, {"sleep": 0.05}, {"sleep": 0.05}]
        _, reports, _ = self._trials(configs, memory_limit=limit)
        report = reports["t0"]
        assert isinstance(report, FailReport), report
        assert isinstance(report.exception, MemoryLimitExceeded), report.exception
        self._healthy(reports, ["t1", "t2"])

    def test_cpu_time_limit(self) -> None:
        if not self.enforces_cpu_time_limit:
            pytest.skip("the back end does not enforce CPU-time limits")
        configs = [{"fault": "cpu", "seconds": 60.0}, {"sleep": 0.05}]
        start = time.monotonic()
        _, reports, _task = self._trials(configs, cpu_time_limit=0.5)
        assert time.monotonic() - start < 0.5 * 3 + self.latency
        report = reports["t0"]
        assert isinstance(report, FailReport), report
        assert isinstance(report.exception, CPUTimeLimitExceeded), report.exception
        self._healthy(reports, ["t1"])

    def test_wall_time_limit(self) -> None:
        if not self.enforces_wall_time_limit:
            pytest.skip("the back end does not enforce wall-time limits")
        configs = [{"fault": "wall", "seconds": 60.0}, {"sleep": 0.05}]
        start = time.monotonic()
        _, reports, _ = self._trials(configs, wall_time_limit=0.5)
        assert time.monotonic() - start < 0.5 + 1.0 + self.latency
        report = reports["t0"]
        assert isinstance(report, FailReport), report
        assert isinstance(report.exception, WallTimeLimitExceeded), report.exception
        self._healthy(reports, ["t1"])

    def test_run_timeout_is_a_bound_and_wait_false_ends_running_calls(self) -> None:
        scheduler = self.create()
        task = Trial.Task(faulty_trial, scheduler)
        reports: list[Report[Any]] = []
        started = time.monotonic()
        # A back end that cannot stop a running call gets a call it can wait out.
        seconds = 60.0 if self.stops_running_calls else 3.0
        config = {"fault": "wall", "seconds": seconds}
        scheduler.on_start(lambda: task(Trial(name="long", config=config)))
        task.on_report(reports.append)
        status = scheduler.run(timeout=1.0, wait=False)
        elapsed = time.monotonic() - started
        assert status is ExitStatus.TIMEOUT
        (report,) = reports
        if self.stops_running_calls:
            assert isinstance(report, CrashReport), report
            assert isinstance(report.exception, CallCancelledError), report.exception
            assert elapsed < 1.0 + 1.0 + self.latency, f"run(timeout=1) took {elapsed:.1f} s"
        else:  # its result is discarded (a crash saying so), or it ran to its end
            cancelled = isinstance(report.exception, CallCancelledError)
            assert cancelled or isinstance(report, SuccessReport), report

    def test_stop_from_a_callback(self) -> None:
        scheduler = self.create()
        task = Task(square, scheduler)
        ended: list[int] = []

        @scheduler.on_start
        def launch() -> None:
            for x in range(3):
                task(x)

        @task.on_done
        def stop(call: Any) -> None:
            ended.append(call.args[0])
            scheduler.stop(reason="enough")

        assert scheduler.run(timeout=self.RUN_TIMEOUT) is ExitStatus.STOPPED
        assert scheduler.stop_reason == "enough"
        assert sorted(ended) == [0, 1, 2], "every submitted call ends exactly once"
        assert scheduler.running_calls == []

    def test_the_processes_a_call_starts_end_with_it(self) -> None:
        if not self.ends_call_processes:
            pytest.skip("the back end leaves the processes a call starts (documented)")
        import psutil

        _, reports, _ = self._trials([{"fault": "child"}])
        report = reports["t0"]
        assert isinstance(report, SuccessReport), report
        if report["host"] != socket.gethostname():
            pytest.skip(f"the call ran on {report['host']}, not on this machine")
        try:
            child = psutil.Process(report["pid"])
        except psutil.NoSuchProcess:
            return
        _, alive = psutil.wait_procs([child], timeout=5.0 + self.latency)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"process {report['pid']}, started by the call, outlived it"

    def test_no_process_of_the_run_is_left(self) -> None:
        import psutil

        me = psutil.Process()
        before = {p.pid for p in me.children(recursive=True)}
        configs: list[dict[str, Any]] = [{"sleep": 0.05} for _ in range(4)]
        if self.isolates_crashes:
            configs.append({"fault": "exit"})
        self._trials(configs, wall_time_limit=30.0)
        new = [p for p in me.children(recursive=True) if p.pid not in before]
        _, alive = psutil.wait_procs(new, timeout=5.0 + self.latency)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"processes of the run outlived it: {alive}"

    def test_a_scheduler_runs_again(self) -> None:
        scheduler = self.create()
        task = Task(sleep_for, scheduler)
        done: list[float] = []
        task.on_result(lambda call, value: done.append(value))
        scheduler.on_start(lambda: task(0.01))
        for n in (1, 2):
            assert scheduler.run(timeout=self.RUN_TIMEOUT) is ExitStatus.EXHAUSTED
            assert done == [0.01] * n
