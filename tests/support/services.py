"""The real services the back-end tests run on, named by environment variables.

``scripts/ci-services up`` starts them and prints these variables:

- ``BYOP_DASK_ADDRESS``: a Dask scheduler with two workers (``tcp://127.0.0.1:8786``);
- ``BYOP_RAY_ADDRESS``: a Ray head (``127.0.0.1:6379``), with
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` and ``RAY_AUTH_MODE=disabled`` exported too;
- ``BYOP_SLURM=1``: a single-node Slurm cluster whose ``sbatch`` is on the ``PATH``;
- ``BYOP_AIRFLOW_CONFIG``: byop's config file for an Airflow 3 (``scripts/services/airflow-up``)
  whose trial DAG runs ``byop.testing`` and ``support.objectives`` (on its workers' path);
- ``BYOP_REQUIRE_SERVICES=1`` (CI): a test whose service is not named fails instead of skipping.

Objectives of ``support.objectives`` travel by value to the services' workers (their
``sys.path`` has no ``tests/``), as a user's own modules would.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
from typing import Any

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

# The services' workers cannot import the tests' modules: objectives travel by value.
cloudpickle.register_pickle_by_value(support.objectives)
cloudpickle.register_pickle_by_value(support.announce)


def available(service: str) -> bool:
    """Whether the environment names a running ``service``."""
    return bool(os.environ.get(SERVICES[service]))


def need(service: str) -> str:
    """The service's variable; skip the test without it (fail when services are required)."""
    variable = SERVICES[service]
    value = os.environ.get(variable)
    if not value:
        message = (
            f"needs a running {service} service: {variable} is not set (scripts/ci-services up)"
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
