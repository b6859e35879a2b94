"""The back-end conformance suite on a real Airflow 3 (``scripts/services/airflow-up``)."""

from __future__ import annotations

from support import services

from byop.scheduling import Scheduler
from byop.testing import BackendConformance


class TestAirflow(BackendConformance):
    """Each call a DAG run of byop's trial DAG; its configuration from BYOP_AIRFLOW_CONFIG.

    A DAG run is scheduled, run and seen to end in a few seconds (Airflow's scheduler loop, a
    fresh task process that parses the DAG file, byop's sandbox, the XCom, byop's poll): about
    3 s per trial with Airflow on an idle machine of 2 cores, and 10 to 30 s when that machine
    is shared and busy (``benchmarks/backends.py --engine airflow`` measures it). The time
    bounds get that much on top; they stay below the 60 s that the faults would run for
    unchecked, and every limit test checks the limit's exception too.
    """

    backend_name = "airflow"
    latency = 30.0

    def create(self) -> Scheduler:
        services.need("airflow")
        return Scheduler.with_backend("airflow", n_workers=self.n_workers)
