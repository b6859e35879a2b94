"""byop's Dask back ends.

- ``Scheduler.with_backend("dask", address=...)`` runs trials on a running Dask cluster, and
  ``Scheduler.with_backend("dask", n_workers=4)`` on a local one that byop starts and stops
  (`DaskBackend`);
- ``"slurm"``, ``"pbs"``, ``"sge"``, ``"lsf"`` and ``"htcondor"`` run them on Dask workers
  that are jobs of a batch system, through dask-jobqueue (`JobQueueBackend`).

Each trial runs in a sandbox process on its Dask worker: per-trial limits and crash isolation
hold as on byop's own processes. Dask and dask-jobqueue are imported only when a run starts.
"""

from __future__ import annotations

from byop.dask._backend import DaskBackend, DaskUnavailableError
from byop.dask._jobqueue import JOBQUEUE_CLUSTERS, JobQueueBackend

__all__ = [
    "JOBQUEUE_CLUSTERS",
    "DaskBackend",
    "DaskUnavailableError",
    "JobQueueBackend",
]
