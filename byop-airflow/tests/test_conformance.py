"""The back-end conformance suite on a real Airflow 3 (``scripts/services/airflow-up``)."""

from __future__ import annotations

from support import services

from byop.scheduling import Scheduler
from byop.testing import BackendConformance


class TestAirflow(BackendConformance):
    """Each call a DAG run of byop's trial DAG; its configuration from BYOP_AIRFLOW_CONFIG.

    A DAG run is scheduled, run and seen to end in a few seconds (Airflow's scheduler loop, a
    fresh task process that parses the DAG file, byop's sandbox, the XCom, byop's poll): 4 to
    5 s a trial, one at a time, with Airflow on this project's machine of 2 cores shared with
    other work, and 13 to 30 s with several at once when that machine is busy
    (``benchmarks/backends.py --engine airflow`` measures it). The time
    bounds get that much on top; they stay below the 60 s that the faults would run for
    unchecked, and every limit test checks the limit's exception too.
    """

    backend_name = "airflow"
    latency = 30.0

    def create(self) -> Scheduler:
        services.need("airflow")
        return Scheduler.with_backend("airflow", n_workers=self.n_workers)
