from __future__ import annotations

import pytest

from byop.scheduling import Scheduler

BACKENDS = {
    "sequential": Scheduler.with_sequential,
    "threads": lambda: Scheduler.with_threads(2),
    "processes": lambda: Scheduler.with_processes(2),
}


@pytest.fixture(params=list(BACKENDS))
def make_scheduler(request):
    """A factory of fresh schedulers, once per back end."""
    made = []

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
