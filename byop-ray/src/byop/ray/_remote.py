"""What a Ray worker runs for byop: a packed call, in the sandbox of the worker."""

from __future__ import annotations

import os
import socket

from byop.scheduling import PackedFunction, run_packed


def _cancelled() -> bool:
    """Whether Ray cancelled the task running here (``ray.cancel``)."""
    import ray

    try:
        return bool(ray.get_runtime_context().is_canceled())
    except (RuntimeError, AttributeError):  # not in a worker: nothing cancels it
        return False


def run_on_worker(packed: PackedFunction, data: bytes) -> bytes:
    """Run one byop call on this Ray worker; returns its pickled outcome and never raises.

    The call runs in this worker's sandbox process (see `byop.scheduling.Sandbox`); only bytes
    pass through here. While it runs, the task's cancellation flag is watched: once Ray cancels
    the task (``ray.cancel``), the sandbox is killed with the call.
    """
    where = f"Ray worker pid {os.getpid()} on {socket.gethostname()}"
    return run_packed(packed, data, cancelled=_cancelled, where=where)
