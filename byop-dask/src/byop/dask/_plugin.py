"""The ``dask`` plugin: the back ends ``dask``, ``slurm``, ``pbs``, ``sge``, ``lsf``, ``htcondor``.

Registering imports neither Dask nor dask-jobqueue; they load when a run starts.
"""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_backends(register: Register) -> None:
    """A Dask cluster (``dask``), and batch systems through dask-jobqueue."""
    from byop.dask._backend import DaskBackend
    from byop.dask._jobqueue import JOBQUEUE_CLUSTERS, jobqueue_backend

    register("dask", DaskBackend)
    for kind in JOBQUEUE_CLUSTERS:
        register(kind, jobqueue_backend(kind))
