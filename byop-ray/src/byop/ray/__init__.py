"""byop's Ray back end.

``Scheduler.with_backend("ray", address="10.0.0.5:6379")`` runs trials as Ray tasks on a
running Ray cluster, and ``Scheduler.with_backend("ray")`` on a local Ray instance that byop
starts and stops (`RayBackend`). A trial with limits runs in a sandbox process on its Ray
worker: per-trial limits and crash isolation hold as on byop's own processes. Ray is imported
only when a run starts.
"""

from __future__ import annotations

from byop.ray._backend import RayBackend, RayUnavailableError

__all__ = ["RayBackend", "RayUnavailableError"]
