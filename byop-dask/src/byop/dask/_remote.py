"""What a Dask worker runs for byop: a packed call, in the sandbox of the worker's thread."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from byop.scheduling import run_packed

_RUNNING_STATES = frozenset({"executing", "long-running", "resumed"})


STARTED_TOPIC = "byop-started"
"""The Dask event topic on which workers announce the byop calls running on them."""

ANNOUNCE_AFTER = 0.5
"""Seconds a call runs before its worker announces it (quicker calls cost no message)."""


def run_on_worker(key: str, function: bytes, call: bytes) -> bytes:
    """Run one byop call on this Dask worker; returns its pickled outcome and never raises.

    ``function`` is the call's `PackedFunction.spec`, scattered once per run (a dependency
    this worker fetched once and keeps), ``key`` its key and ``call`` the arguments. The call
    runs in the sandbox process of this worker thread (see `byop.scheduling.Sandbox`);
    only bytes pass through here. While it runs, the task's state on the worker is watched
    every quarter second: once Dask cancels the task (the byop scheduler stopped, or its client
    went away), the sandbox is killed with the call.
    """
    where, cancelled = _this_task()
    return run_packed(
        call, function=function, key=key, cancelled=cancelled, where=f"Dask worker {where}"
    )


def _this_task() -> tuple[str, Callable[[], bool] | None]:
    """Where this task runs, and a probe of whether Dask still wants it run.

    The probe also tells the byop client, once the call has run for `ANNOUNCE_AFTER` seconds,
    that it runs here (an event through the scheduler): should this worker die, the client
    knows which of its calls were running there (they get a `CrashReport`), and which were
    only waiting there, or had only just started (Dask runs those elsewhere).
    """
    try:
        from dask.context import thread_state
        from distributed import get_worker

        worker = get_worker()
        key = thread_state.key
    except (ImportError, ValueError, AttributeError):
        return socket.gethostname(), None
    tasks = worker.state.tasks
    announce_at = [time.monotonic() + ANNOUNCE_AFTER]

    def cancelled() -> bool:
        if announce_at and time.monotonic() >= announce_at[0]:
            announce_at.clear()
            worker.log_event(STARTED_TOPIC, {"key": key, "worker": worker.address})
        ts = tasks.get(key)
        return ts is None or ts.state not in _RUNNING_STATES

    return f"{worker.address} on {socket.gethostname()}", cancelled
