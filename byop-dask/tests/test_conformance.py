"""The back-end conformance suite on a real Dask cluster, and on Slurm through dask-jobqueue."""

from __future__ import annotations

from typing import Any

import pytest
from support import services

from byop.scheduling import Scheduler
from byop.testing import BackendConformance


class TestDask(BackendConformance):
    """A Dask scheduler with two workers (``scripts/ci-services``)."""

    backend_name = "dask"

    def create(self) -> Scheduler:
        return Scheduler.with_backend("dask", address=services.dask_address())


class TestDaskLocal(BackendConformance):
    """The local cluster byop starts for the run (``n_workers=``), in this process."""

    backend_name = "dask"
    isolates_crashes = True  # calls run in sandboxes: the cluster's threads never run them


class TestSlurm(BackendConformance):
    """Slurm jobs as Dask workers (``SLURMCluster``): the CI's single-node Slurm."""

    backend_name = "slurm"
    latency = 5.0

    @pytest.fixture(autouse=True)
    def _cluster(self, slurm_cluster: Any) -> None:
        self.cluster = slurm_cluster

    def create(self) -> Scheduler:
        return Scheduler.with_backend("dask", cluster=self.cluster)
