"""The ``ray`` plugin: the back end ``ray``. Registering does not import Ray."""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_backends(register: Register) -> None:
    """A Ray cluster, or a local Ray instance (``ray``)."""
    from byop.ray._backend import RayBackend

    register("ray", RayBackend)
