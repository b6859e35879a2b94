"""The back-end conformance suite on a real Airflow 3 (``scripts/services/airflow-up``)."""

from __future__ import annotations

from support import services

from byop.scheduling import Scheduler
from byop.testing import BackendConformance


class TestAirflow(BackendConformance):
    """Each call a DAG run of byop's trial DAG; its configuration from BYOP_AIRFLOW_CONFIG.

    A DAG run starts, runs and is seen to end in a few seconds on a busy machine of two
    cores: Airflow's scheduler loop, a fresh task process that parses the DAG file, byop's
    sandbox, the XCom, and byop's poll.
    """

    backend_name = "airflow"
    latency = 15.0

    def create(self) -> Scheduler:
        services.need("airflow")
        return Scheduler.with_backend("airflow", n_workers=self.n_workers)
