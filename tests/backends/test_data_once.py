"""Data travels once: a function and the data it holds reach each worker once per run.

On every back end a function is sent once per worker (the process back end registers it; Dask
scatters it, Ray puts it in the object store) and loaded once per process that runs it, however
many calls it serves. The function notes each process that unpickles it.
"""

from __future__ import annotations

import collections

import pytest
from support import services
from support.objectives import LoadCounter

from byop.scheduling import ExitStatus, Scheduler, Task

MB = 1000**2


@pytest.fixture(params=("processes", *services.REMOTE))
def backend(request):
    if request.param == "airflow":
        pytest.skip(
            "Airflow runs each call as a DAG run of a module-level function with JSON "
            "arguments: no data closes over its calls"
        )
    if request.param not in ("processes", "dask-local"):
        services.need(request.param.split("-")[0])
    return request.param


@pytest.mark.parametrize("limits", [{}, {"wall_time_limit": 30}], ids=["no-limits", "limits"])
def test_a_function_is_loaded_once_per_worker_process(backend, limits, request, tmp_path):
    if backend == "processes":
        scheduler = Scheduler.with_processes(2)
    else:
        scheduler = services.remote_scheduler(backend, request)
    log = tmp_path / "loads.txt"
    function = LoadCounter(20 * MB, str(log))
    task = Task(function, scheduler, **limits)
    results = []
    task.on_result(lambda call, value: results.append(value))

    @scheduler.on_start
    def start():
        for i in range(12):
            task(i)

    assert scheduler.run(timeout=120) is ExitStatus.EXHAUSTED
    assert len(results) == 12 and {size for size, _ in results} == {20 * MB}
    loads = collections.Counter(log.read_text().split())
    ran_in = {str(pid) for _, pid in results}
    assert ran_in <= set(loads), (ran_in, loads)
    assert all(n == 1 for n in loads.values()), f"loaded more than once in a process: {loads}"
