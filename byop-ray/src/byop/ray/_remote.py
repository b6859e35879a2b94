"""What a Ray worker runs for byop: a packed call, in the sandbox of the worker."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from byop.scheduling import run_packed


def _cancelled() -> bool:
    """Whether Ray cancelled the task running here (``ray.cancel``)."""
    import ray

    try:
        return bool(ray.get_runtime_context().is_canceled())
    except (RuntimeError, AttributeError):  # not in a worker: nothing cancels it
        return False


def _fetch(spec: list[Any]) -> Callable[[], bytes]:
    """A function that fetches the spec from the object store (once per worker)."""

    def fetch() -> bytes:
        import ray

        data: bytes = ray.get(spec[0])
        return data

    return fetch


def run_on_worker(key: str, spec: list[Any], call: bytes) -> bytes:
    """Run one byop call on this Ray worker; returns its pickled outcome and never raises.

    ``spec`` holds the reference to the function's `PackedFunction.spec` in the object store
    (put there once per run), fetched only by a worker that has not loaded it yet; ``call``
    holds the arguments.

    A call with limits runs in this worker's sandbox process (see `byop.scheduling.Sandbox`),
    and only bytes pass through here; while it runs, the task's cancellation flag is watched,
    and once Ray cancels the task (``ray.cancel``) the sandbox is killed with the call. A call
    without limits runs right here: a Ray worker is a process that runs one task at a time, so
    a crash costs that call alone anyway.
    """
    where = f"Ray worker pid {os.getpid()} on {socket.gethostname()}"
    return run_packed(
        call, function=_fetch(spec), key=key, cancelled=_cancelled, where=where, sandbox="limits"
    )


def run_in_sandbox(key: str, spec: list[Any], call: bytes) -> bytes:
    """`run_on_worker`, with every call in the sandbox (``RayBackend(always_sandbox=True)``)."""
    where = f"Ray worker pid {os.getpid()} on {socket.gethostname()}"
    return run_packed(
        call, function=_fetch(spec), key=key, cancelled=_cancelled, where=where, sandbox=True
    )
