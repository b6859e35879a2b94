"""Back ends on batch systems: Dask workers that are Slurm, PBS, SGE, LSF or HTCondor jobs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from byop.dask._backend import DaskBackend
from byop.plugins import import_optional

JOBQUEUE_CLUSTERS: dict[str, str] = {
    "slurm": "SLURMCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
    "lsf": "LSFCluster",
    "htcondor": "HTCondorCluster",
}
"""The back-end names of the batch systems, and their dask-jobqueue cluster classes."""


class JobQueueBackend(DaskBackend):
    """Runs byop's calls on Dask workers that are jobs of a batch system (dask-jobqueue).

    When a run starts, byop creates the dask-jobqueue cluster (its Dask scheduler runs in this
    process, on the login node) and asks for workers; each job the batch system starts runs
    Dask workers that connect back and run trials, each trial in a sandbox process. When the
    run ends, byop closes the cluster, which cancels its jobs.

    The number of workers is set one of two ways:

    - ``n_workers`` (the default, 1): ``cluster.scale(n_workers)``, a fixed number of workers
      for the whole run. Each job runs ``processes`` workers (dask-jobqueue's own argument), so
      ``ceil(n_workers / processes)`` jobs are submitted. Jobs waiting in the queue simply
      start late; their trials wait on the Dask scheduler meanwhile.
    - ``adapt=(minimum, maximum)``: ``cluster.adapt(minimum=..., maximum=...)``: Dask submits
      jobs while trials wait for a worker and cancels the jobs of workers that stay idle, within
      those bounds. Fewer idle jobs, less predictable: a worker retired between two trials
      costs a new job's queue wait.

    Args:
        kind: ``"slurm"``, ``"pbs"``, ``"sge"``, ``"lsf"`` or ``"htcondor"``.
        n_workers: How many Dask workers to keep, without ``adapt``.
        adapt: ``(minimum, maximum)`` workers, to scale adaptively instead.
        wait_for_workers: Wait at the start of each run until this many workers are connected.
        timeout: Seconds to wait for ``wait_for_workers``.
        **cluster_kwargs: The cluster's own keyword arguments, passed through unchanged:
            ``cores``, ``memory``, ``walltime``, ``queue``, ``account``,
            ``job_extra_directives``, ``processes``, ``scheduler_options``, ...

    Example:
        ```python
        from byop.scheduling import Scheduler

        # Nothing is submitted until the scheduler runs.
        scheduler = Scheduler.with_backend(
            "slurm", n_workers=8, cores=1, memory="4GB", walltime="02:00:00", queue="cpu"
        )
        assert scheduler.backend.name == "slurm"
        ```
    """

    def __init__(
        self,
        kind: str,
        *,
        n_workers: int | None = 1,
        adapt: tuple[int, int] | None = None,
        wait_for_workers: int = 0,
        timeout: float = 300.0,
        **cluster_kwargs: Any,
    ) -> None:
        if kind not in JOBQUEUE_CLUSTERS:
            raise ValueError(
                f"Unknown batch system {kind!r}; byop knows {', '.join(JOBQUEUE_CLUSTERS)}."
            )
        if n_workers is None:
            n_workers = 1
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
        if adapt is not None:
            low, high = adapt
            if not 0 <= low <= high or high < 1:
                raise ValueError(
                    f"adapt must be (minimum, maximum) with 0 <= minimum <= maximum and "
                    f"maximum >= 1, got {adapt!r}."
                )
        super().__init__(wait_for_workers=wait_for_workers, timeout=timeout)
        self.name = kind
        self.kind = kind
        self.n_workers = n_workers
        self.adapt = adapt
        self.cluster_kwargs = cluster_kwargs
        self._use_configured_address = False

    def _start_cluster(self) -> Any:
        jobqueue = import_optional(
            "dask_jobqueue", install="byop[dask]", feature=f"byop's {self.kind!r} back end"
        )
        cluster = getattr(jobqueue, JOBQUEUE_CLUSTERS[self.kind])(**self.cluster_kwargs)
        try:
            if self.adapt is not None:
                cluster.adapt(minimum=self.adapt[0], maximum=self.adapt[1])
            else:
                cluster.scale(n=self.n_workers)
        except BaseException:
            cluster.close()
            raise
        return cluster

    def job_script(self) -> str:
        """The batch script each worker job would run, made with your arguments; submits nothing.

        Example:
            ```python
            from byop.dask import JobQueueBackend

            backend = JobQueueBackend("slurm", cores=2, memory="4GB", walltime="01:00:00")
            script = backend.job_script()
            assert "#SBATCH --cpus-per-task=2" in script
            assert "distributed.cli.dask_worker" in script
            ```
        """
        jobqueue = import_optional(
            "dask_jobqueue", install="byop[dask]", feature=f"byop's {self.kind!r} back end"
        )
        kwargs = dict(self.cluster_kwargs)
        options = dict(kwargs.get("scheduler_options") or {})
        options.setdefault("dashboard_address", ":0")  # no web server for a preview
        kwargs["scheduler_options"] = options
        cluster = getattr(jobqueue, JOBQUEUE_CLUSTERS[self.kind])(**kwargs)
        try:
            script: str = cluster.job_script()
        finally:
            cluster.close()
        return script

    def __repr__(self) -> str:
        size = f"adapt={self.adapt}" if self.adapt else f"n_workers={self.n_workers}"
        return f"JobQueueBackend({self.kind}, {size}, running={len(self._running)})"


def jobqueue_backend(kind: str) -> Callable[..., JobQueueBackend]:
    """The factory registered under the batch system's name: ``JobQueueBackend(kind, ...)``."""
    factory = functools.partial(JobQueueBackend, kind)
    functools.update_wrapper(factory, JobQueueBackend)
    return factory
