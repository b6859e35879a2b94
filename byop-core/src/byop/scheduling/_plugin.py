"""byop-core's ``byop.scheduling`` plugin: the back ends ``processes``, ``threads``, ``sequential``.

Registered through byop-core's own ``byop`` entry point, exactly as a third party's plugin is.
"""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_backends(register: Register) -> None:
    """Processes (byop's own pool), threads, and sequential (this thread)."""
    from byop.scheduling._futures import thread_backend
    from byop.scheduling._process import ProcessBackend
    from byop.scheduling._sequential import SequentialBackend

    register("processes", ProcessBackend)
    register("threads", thread_backend)
    register("sequential", SequentialBackend)
