"""Fixtures of the byop-dask tests."""

from support.services import slurm_cluster  # noqa: F401 - a module-scoped Slurm cluster
