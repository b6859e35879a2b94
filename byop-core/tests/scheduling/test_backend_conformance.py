"""byop's own back ends run the back-end conformance suite (Dask, Ray, Slurm: in their packages)."""

from __future__ import annotations

from byop.testing import BackendConformance


class TestProcesses(BackendConformance):
    backend_name = "processes"


class TestThreads(BackendConformance):
    backend_name = "threads"
    isolates_crashes = False  # calls run in this process: a call that ends it ends the run
    stops_running_calls = False  # a running thread cannot be stopped from outside
    ends_call_processes = False


class TestSequential(BackendConformance):
    backend_name = "sequential"
    n_workers = 1
    isolates_crashes = False
    stops_running_calls = False  # the call runs in the scheduler's own thread, to its end
    ends_call_processes = False
