from __future__ import annotations

import pytest
from support import services
from support.services import slurm_cluster  # noqa: F401 - a fixture

from byop.scheduling import Scheduler

BACKENDS = {
    "sequential": lambda request: Scheduler.with_sequential(),
    "threads": lambda request: Scheduler.with_threads(2),
    "processes": lambda request: Scheduler.with_processes(2),
    # On the real services (scripts/ci-services up): skipped when the environment does not
    # name them, failed instead when BYOP_REQUIRE_SERVICES=1 (CI).
    "dask": lambda request: services.remote_scheduler("dask"),
    "ray": lambda request: services.remote_scheduler("ray"),
    "slurm": lambda request: services.remote_scheduler("slurm", request),
}


@pytest.fixture(params=list(BACKENDS))
def make_scheduler(request):
    """A factory of fresh schedulers, once per back end."""
    made = []
    if request.param in services.SERVICES:
        services.need(request.param)

    def make(**kwargs):
        scheduler = BACKENDS[request.param](request)
        if kwargs:
            scheduler = type(scheduler)(scheduler.backend, **kwargs)
        made.append(scheduler)
        return scheduler

    make.backend = request.param
    yield make
    for s in made:
        assert not s.is_running
