"""byop-dask: registration, arguments, and what byop starts and stops (local clusters, Slurm)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap

import psutil
import pytest
from support import services
from support.objectives import poly, square

import byop.dask
from byop.dask import JOBQUEUE_CLUSTERS, DaskBackend, DaskUnavailableError, JobQueueBackend
from byop.optimization import RandomSearch, SuccessReport, Trial
from byop.scheduling import ExitStatus, Scheduler, Task


def test_every_back_end_is_registered_without_importing_dask():
    code = textwrap.dedent(
        """
        import sys
        from byop.scheduling import Scheduler

        for name in ("dask", "slurm", "pbs", "sge", "lsf", "htcondor"):
            s = Scheduler.with_backend(name, **({} if name == "dask" else {"cores": 1}))
            assert s.backend.name == name, (name, s.backend.name)
        heavy = [m for m in ("dask", "distributed", "dask_jobqueue") if m in sys.modules]
        assert not heavy, heavy
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_the_cluster_s_own_arguments_pass_through():
    s = Scheduler.with_backend("slurm", n_workers=3, cores=2, memory="4GB", queue="cpu")
    backend = s.backend
    assert isinstance(backend, JobQueueBackend)
    assert (backend.kind, backend.n_workers, backend.adapt) == ("slurm", 3, None)
    assert backend.cluster_kwargs == {"cores": 2, "memory": "4GB", "queue": "cpu"}
    adaptive = JobQueueBackend("pbs", adapt=(0, 8), cores=1, memory="1GB")
    assert adaptive.adapt == (0, 8)
    assert set(JOBQUEUE_CLUSTERS) == {"slurm", "pbs", "sge", "lsf", "htcondor"}


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: DaskBackend("tcp://a:1", n_workers=2), ValueError, "not address and n_workers"),
        (lambda: DaskBackend(n_workers=0), ValueError, "positive"),
        (lambda: DaskBackend("tcp://a:1", processes=True), TypeError, "go with n_workers"),
        (lambda: JobQueueBackend("torque"), ValueError, "byop knows slurm"),
        (lambda: JobQueueBackend("slurm", n_workers=0), ValueError, "positive"),
        (lambda: JobQueueBackend("slurm", adapt=(3, 1)), ValueError, "minimum <= maximum"),
    ],
)
def test_bad_arguments_say_what_to_do(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_an_unreachable_scheduler_is_a_clear_error():
    scheduler = Scheduler.with_backend("dask", address="tcp://127.0.0.1:9", timeout=1)
    with pytest.raises(DaskUnavailableError, match=r"Could not reach the Dask scheduler.*dask-up"):
        scheduler.run(timeout=10)
    assert not scheduler.is_running


def test_a_local_cluster_is_started_and_stopped_for_each_run():
    scheduler = Scheduler.with_backend("dask", n_workers=2)
    task = Task(square, scheduler)
    out = []
    seen = []
    scheduler.on_start(lambda: [task(x) for x in range(6)])
    scheduler.on_start(lambda: seen.append(scheduler.backend.cluster))
    task.on_result(lambda call, value: out.append(value))
    for _ in range(2):
        assert scheduler.run(timeout=60) is ExitStatus.EXHAUSTED
        assert scheduler.backend.cluster is None and scheduler.backend.client is None
        assert psutil.Process().children(recursive=True) == []
    assert sorted(out) == sorted(2 * [x * x for x in range(6)])
    assert len(seen) == 2 and seen[0] is not seen[1]
    assert seen[0].status.name == "closed"


def test_stopping_a_local_cluster_mid_run_leaves_nothing():
    scheduler = Scheduler.with_backend("dask", n_workers=2)
    task = Trial.Task(poly, scheduler)
    rs = RandomSearch(space={"x": (-10.0, 10.0)}, seed=0)
    reports = []
    scheduler.on_start(repeat=2)(lambda: task(rs.ask()))
    task.on_report(reports.append)
    task.on_report(lambda r: task(rs.ask()))
    assert scheduler.run(timeout=3, wait=False) is ExitStatus.TIMEOUT
    assert len(reports) == task.n_calls
    assert psutil.Process().children(recursive=True) == []


def test_a_cluster_you_run_stays_up():
    from distributed import Client

    address = services.dask_address()
    with Client(address, timeout=30) as client:
        before = set(client.scheduler_info()["workers"])
        scheduler = Scheduler.with_backend("dask", client=client)
        task = Task(square, scheduler)
        scheduler.on_start(lambda: task(3))
        scheduler.run(timeout=60)
        assert client.status == "running"  # the client you gave is still yours
        assert client.submit(abs, -4).result(timeout=30) == 4
    # The scheduler at the address, and its workers, are still up for anyone else.
    scheduler = Scheduler.with_backend("dask", address=address)
    scheduler.on_start(lambda: Task(square, scheduler)(5))
    assert scheduler.run(timeout=60) is ExitStatus.EXHAUSTED
    with Client(address, timeout=30) as client:
        assert set(client.scheduler_info()["workers"]) == before


def test_slurm_jobs_are_submitted_for_the_run_and_cancelled_after_it(tmp_path):
    services.need("slurm")
    scheduler = Scheduler.with_backend(
        "slurm", n_workers=2, wait_for_workers=2, **services.slurm_options(str(tmp_path))
    )
    task = Trial.Task(poly, scheduler)
    rs = RandomSearch(space={"x": (-10.0, 10.0)}, seed=0)
    reports = []
    jobs = {}

    @scheduler.on_start
    def start():
        jobs["during"] = _our_jobs(scheduler.backend.cluster)
        for _ in range(8):
            task(rs.ask())

    task.on_report(reports.append)
    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    assert len(jobs["during"]) == 2  # two workers, one job each
    assert len(reports) == 8 and all(isinstance(r, SuccessReport) for r in reports)
    assert not set(jobs["during"]) & set(_live_jobs())  # cancelled when the run ended
    assert psutil.Process().children(recursive=True) == []


def _our_jobs(cluster) -> list[str]:
    return [job.job_id for job in cluster.workers.values() if getattr(job, "job_id", None)]


def _live_jobs() -> list[str]:
    """Jobs pending or running (not those cancelled and still completing)."""
    out = subprocess.run(
        ["squeue", "-h", "-t", "PENDING,RUNNING", "-o", "%i"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def _examples():
    objects = [byop.dask] + [getattr(byop.dask, name) for name in byop.dask.__all__]
    for obj in objects:
        doc = inspect.getdoc(obj) or ""
        for n, match in enumerate(re.finditer(r"```python\n(.*?)```", doc, re.DOTALL)):
            yield pytest.param(match.group(1), id=f"{getattr(obj, '__name__', obj)}-{n}")


@pytest.mark.parametrize("code", list(_examples()))
def test_docstring_examples_run(code):
    exec(compile(textwrap.dedent(code), "<docstring>", "exec"), {"__name__": "__main__"})
