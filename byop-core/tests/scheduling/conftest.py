from __future__ import annotations

import pytest
from support import services

from byop.scheduling import Scheduler

BACKENDS = {
    "sequential": Scheduler.with_sequential,
    "threads": lambda: Scheduler.with_threads(2),
    "processes": lambda: Scheduler.with_processes(2),
    # On the real services (scripts/ci-services up): skipped when the environment does not
    # name them, failed instead when BYOP_REQUIRE_SERVICES=1 (CI).
    "dask": lambda: services.remote_scheduler("dask"),
    "ray": lambda: services.remote_scheduler("ray"),
    "slurm": lambda: services.remote_scheduler("slurm"),
}


@pytest.fixture(params=list(BACKENDS))
def make_scheduler(request):
    """A factory of fresh schedulers, once per back end."""
    made = []
    if request.param in services.SERVICES:
        services.need(request.param)

    def make(**kwargs):
        scheduler = BACKENDS[request.param]()
        if kwargs:
            scheduler = type(scheduler)(scheduler.backend, **kwargs)
        made.append(scheduler)
        return scheduler

    make.backend = request.param
    yield make
    for s in made:
        assert not s.is_running
