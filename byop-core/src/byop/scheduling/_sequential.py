"""The sequential back end: each call runs in the scheduler's own thread, for debugging."""

from __future__ import annotations

import collections

from byop.scheduling._call import Call, CallState
from byop.scheduling._errors import CallCancelledError
from byop.scheduling._execute import execute_alone
from byop.scheduling._links import local_link


class SequentialBackend:
    """Runs each call in this thread, one at a time, when the scheduler waits. For debugging.

    Calls run inside `wait`, so a call that runs past the run's timeout ends first: with
    ``run(timeout=T)``, with ``wait=False`` too, the run returns once the call running at ``T``
    returns, and that call gets its own report (limits still apply to it, in this thread: set
    a ``wall_time_limit`` to bound it). After each call, the processes it left running are
    ended, and the working directory and the environment are put back as they were.

    Args:
        n_workers: Accepted for the ``register_backends`` contract; calls always run one at a
            time here, the others wait in a queue.
    """

    name = "sequential"
    runs_calls_in_wait = True
    exhausted = False

    def __init__(self, n_workers: int | None = None) -> None:
        if n_workers is not None and (
            isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
        ):
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
        self._queue: collections.deque[Call] = collections.deque()

    def start(self) -> None:
        """Nothing to start."""

    def submit(self, call: Call) -> None:
        """Queue the call; it runs at the next `wait`."""
        self._queue.append(call)

    def wait(self, timeout: float | None) -> list[Call]:
        """Run the next queued call here and return it."""
        if not self._queue:
            return []
        call = self._queue.popleft()
        call.state = CallState.RUNNING
        if call.task.reports_progress:
            call.task.attach_progress(call, local_link(call))
        call.record(execute_alone(call.fn, call.args, call.kwargs, call.applied_limits))
        return [call]

    def wakeup(self) -> None:
        """Nothing blocks."""

    def shutdown(self, *, cancel: bool) -> list[Call]:
        """Cancel what is queued."""
        cancelled = list(self._queue) if cancel else []
        self._queue.clear()
        for call in cancelled:
            call.cancel(CallCancelledError("the scheduler stopped before this call ran"))
        return cancelled

    def __repr__(self) -> str:
        return f"SequentialBackend(queued={len(self._queue)})"
