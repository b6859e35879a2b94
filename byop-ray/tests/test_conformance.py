"""The back-end conformance suite on a real Ray cluster (``scripts/ci-services``)."""

from __future__ import annotations

from support import services

from byop.scheduling import Scheduler
from byop.testing import BackendConformance


class TestRay(BackendConformance):
    backend_name = "ray"
    # A call without limits runs in its Ray worker, not in a sandbox: the processes it starts
    # stay (documented; always_sandbox=True ends them, below).
    ends_call_processes = False

    def create(self) -> Scheduler:
        services.ray_connected()
        return Scheduler.with_backend("ray")


class TestRayAlwaysSandboxed(TestRay):
    ends_call_processes = True

    def create(self) -> Scheduler:
        services.ray_connected()
        return Scheduler.with_backend("ray", always_sandbox=True)
