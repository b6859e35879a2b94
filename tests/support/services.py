"""The real services the back-end tests run on, named by environment variables.

``scripts/ci-services up`` starts them and prints these variables:

- ``BYOP_DASK_ADDRESS``: a Dask scheduler with two workers (``tcp://127.0.0.1:8786``);
- ``BYOP_RAY_ADDRESS``: a Ray head (``127.0.0.1:6379``), with
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` and ``RAY_AUTH_MODE=disabled`` exported too;
- ``BYOP_SLURM=1``: a single-node Slurm cluster whose ``sbatch`` is on the ``PATH``;
- ``BYOP_AIRFLOW_CONFIG``: byop's config file for an Airflow 3 (``scripts/services/airflow-up``)
  whose trial DAG runs ``byop.testing`` and ``support.objectives`` (on its workers' path);
- ``BYOP_REQUIRE_SERVICES=1`` (CI): a test whose service is not named fails instead of skipping.

Dask and Ray need no root: when a test needs one and the environment names none, the session
starts its own on 127.0.0.1 and free ports (`support.local_services`), once, sets the variables
above for itself and the processes it starts, and stops it, by process id, when pytest exits
(or soon after pytest is killed). ``BYOP_LOCAL_SERVICES=0`` turns that off: the tests skip
instead (or fail, under ``BYOP_REQUIRE_SERVICES=1``). Only Slurm needs ``scripts/ci-services``
(root, apt).

Objectives of ``support.objectives`` travel by value to the services' workers (their
``sys.path`` has no ``tests/``), as a user's own modules would.
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import cloudpickle
import pytest
import support.announce
import support.objectives

REQUIRE = os.environ.get("BYOP_REQUIRE_SERVICES") == "1"
SERVICES = {
    "dask": "BYOP_DASK_ADDRESS",
    "ray": "BYOP_RAY_ADDRESS",
    "slurm": "BYOP_SLURM",
    "airflow": "BYOP_AIRFLOW_CONFIG",
}

# Every process that connects to a Ray head on 127.0.0.1 needs these (scripts/services/ray-up),
# and Ray reads them when it is imported: so they are set before any test can import it, here
# and, through the environment, in every process the tests start.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

# The services' workers cannot import the tests' modules: objectives travel by value.
cloudpickle.register_pickle_by_value(support.objectives)
cloudpickle.register_pickle_by_value(support.announce)


def available(service: str) -> bool:
    """Whether the environment names a running ``service``."""
    return bool(os.environ.get(SERVICES[service]))


LOCAL = ("dask", "ray")
"""The services a test session starts itself when the environment names none."""
DEFAULT_ADDRESS = {"dask": "tcp://127.0.0.1:8786", "ray": "127.0.0.1:6379"}
"""The addresses the docs write (those of scripts/services), for blocks to run elsewhere."""
_START_TIMEOUT = 180.0
_STOP_TIMEOUT = 60.0
_started: dict[str, str] = {}
_failed: dict[str, str] = {}


def _start_local(service: str) -> str:
    """Start ``service`` for this session (once), export its variables, and return its address."""
    if service in _failed:
        pytest.fail(_failed[service])
    if service in _started:
        return _started[service]
    run = Path(tempfile.mkdtemp(prefix=f"byop-{service}-"))  # short: Ray's socket paths
    with (run / "supervisor.log").open("wb") as log:
        launcher = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("local_services.py")), service,
             "--owner", str(os.getpid()), "--dir", str(run)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )  # fmt: skip
    assert launcher.stdout is not None
    launcher.wait(timeout=60)  # it forks the supervisor, which keeps the pipe, and returns
    line = _read_line(launcher.stdout, _START_TIMEOUT)
    words = line.split(maxsplit=2)
    if len(words) == 3 and words[0] == "ready":
        address, supervisor = words[1], int(words[2])
        atexit.register(_stop_local, supervisor, launcher.stdout, run)
        _started[service] = address
        os.environ[SERVICES[service]] = address
        return address
    _failed[service] = (
        f"could not start a local {service} service for the tests ({line.strip() or 'no answer'}"
        f"; logs in {run}). Set BYOP_LOCAL_SERVICES=0 to skip its tests instead, or name a "
        f"running one with {SERVICES[service]}."
    )
    launcher.stdout.close()
    pytest.fail(_failed[service])


def _read_line(pipe: IO[bytes], timeout: float) -> str:
    """The first line on ``pipe`` within ``timeout`` seconds ("" at its end or the timeout)."""
    readable, _, _ = select.select([pipe], [], [], timeout)
    return pipe.readline().decode() if readable else ""


def _stop_local(supervisor: int, pipe: IO[bytes], run: Path) -> None:
    """Ask the supervisor to stop the service, wait until it has (its pipe's end), tidy up."""
    try:
        os.kill(supervisor, signal.SIGTERM)
    except ProcessLookupError:
        pass
    else:
        while _read_line(pipe, _STOP_TIMEOUT):  # EOF once it has stopped everything and exited
            continue
    pipe.close()
    shutil.rmtree(run, ignore_errors=True)  # its logs (kept when the service did not start)


def need(service: str) -> str:
    """The service's variable; skip the test without it (fail when services are required).

    Dask and Ray are started for the session when not named (see the module's docstring).
    """
    variable = SERVICES[service]
    value = os.environ.get(variable)
    if not value and service in LOCAL and os.environ.get("BYOP_LOCAL_SERVICES", "1") != "0":
        value = _start_local(service)
    if not value:
        message = f"needs a running {service} service: {variable} is not set" + (
            " (scripts/ci-services up)" if service not in LOCAL else " and BYOP_LOCAL_SERVICES=0"
        )
        if REQUIRE:
            pytest.fail(f"BYOP_REQUIRE_SERVICES=1 but {message}")
        pytest.skip(message)
    if service == "slurm" and shutil.which("sbatch") is None:
        pytest.fail("BYOP_SLURM=1 but sbatch is not on the PATH")
    return value


def dask_address() -> str:
    return need("dask")


_ray: list[Any] = []


def ray_connected() -> None:
    """Connect this process to the Ray service once; back ends then use that connection."""
    address = need("ray")
    if not _ray:
        import ray

        ray.init(address=address, include_dashboard=False, configure_logging=False)
        _ray.append(ray)
        atexit.register(ray.shutdown)


def slurm_options(log_dir: str) -> dict[str, Any]:
    """The SLURMCluster arguments for the single-node CI cluster (everything on 127.0.0.1).

    No nanny: on a machine of two cores, each is one more Python process to start per job
    (4 workers come up in about 3.5 s instead of 7 s).
    """
    return {
        "cores": 1,
        "processes": 1,
        "nanny": False,
        "memory": "1GB",
        "walltime": "00:30:00",
        "python": sys.executable,
        "scheduler_options": {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"},
        "worker_extra_args": ["--host", "127.0.0.1", "--no-dashboard"],
        "log_directory": log_dir,
        "local_directory": log_dir,
    }


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A two-worker SLURMCluster for a test module, made by byop's ``slurm`` back end.

    Its jobs hold two of the node's job slots until the module's tests are done.
    """
    need("slurm")
    from byop.dask import JobQueueBackend

    log_dir = tmp_path_factory.mktemp("slurm")
    backend = JobQueueBackend("slurm", n_workers=2, **slurm_options(str(log_dir)))
    cluster = backend._start_cluster()
    yield cluster
    cluster.close()


def remote_scheduler(name: str, request: pytest.FixtureRequest | None = None, **kwargs: Any) -> Any:
    """A fresh scheduler over the remote back end ``name``, on its service.

    ``slurm`` needs the test's ``request``, for the module's `slurm_cluster`.
    """
    from byop.scheduling import Scheduler

    if name == "dask":
        return Scheduler.with_backend("dask", address=dask_address(), **kwargs)
    if name == "dask-local":
        return Scheduler.with_backend("dask", n_workers=2, **kwargs)
    if name == "ray":
        ray_connected()
        return Scheduler.with_backend("ray", **kwargs)
    if name == "airflow":
        need("airflow")
        return Scheduler.with_backend("airflow", **kwargs)
    if name == "slurm":
        assert request is not None, "the slurm back end needs the test's request"
        cluster = request.getfixturevalue("slurm_cluster")
        return Scheduler.with_backend("dask", cluster=cluster, **kwargs)
    raise ValueError(name)


REMOTE = ("dask", "dask-local", "ray", "slurm", "airflow")
