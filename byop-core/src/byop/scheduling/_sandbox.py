"""Sandboxes: byop's process guarantees inside the workers of other engines.

The workers of Dask and Ray run calls in threads (or in their own main thread) of a long-lived
process. There, a limit cannot interrupt code blocked in C, ``RLIMIT_DATA`` would bound the
whole worker, and a segfault would take the worker down with every call it runs. A back end for
such an engine ships each call packed as bytes (see `byop.scheduling._packing`), and the
engine's worker runs it with `run_packed`: in a `Sandbox`, a child process of that worker
thread that byop's own process back end drives. So, on every engine, exactly as with
``Scheduler.with_processes``:

- limits are enforced by the kernel in the child's main thread (timers, signals and
  ``RLIMIT_DATA``), and as hard bounds by killing the child shortly after a wall-time or
  CPU-time limit;
- a child that dies (a signal, ``os._exit``, a segfault, the OOM killer) costs only the call it
  was running, which fails with `WorkerDiedError`; the next call gets a fresh child;
- every process a call starts ends with the call.

The engine's worker itself never runs user code, so it never dies of a trial. Children start as
fresh interpreters (``start_method="exec"``): nothing is forked from a process running threads,
and no ``__main__`` is imported again.
"""

from __future__ import annotations

import pickle
import threading
import weakref
from collections.abc import Callable
from typing import Any, Literal

from byop.scheduling._call import Call, CallState
from byop.scheduling._errors import CallCancelledError, NotPicklableError, WorkerDiedError
from byop.scheduling._execute import Outcome
from byop.scheduling._leftovers import left_as_found
from byop.scheduling._packing import (
    PackedFunction,
    PickledCall,
    pickle_call,
    unpack_call,
    unpickle_outcome,
)
from byop.scheduling._process import GRACE, ProcessBackend
from byop.scheduling._task import Task
from byop.scheduling._worker import PROTOCOL


def _sandboxed() -> None:
    """The task every sandboxed call is recorded under (for its repr only)."""


class Sandbox:
    """A child process that runs calls for the thread that owns it, one call at a time.

    Args:
        grace: Seconds past a wall-time or CPU-time limit before the child is killed.
        max_functions: How many distinct functions the child keeps loaded; past that, the
            child is replaced (a long-lived engine worker serves many runs).

    Example:
        ```python
        import time

        from byop.scheduling import Limits, PackedFunction, Sandbox, WallTimeLimitExceeded

        sandbox = Sandbox()
        ok, value, _ = sandbox.run(PackedFunction.of(abs, limits=None), (-2,), {})
        assert (ok, value) == (True, 2)

        slow = PackedFunction.of(time.sleep, limits=Limits(wall_time=0.2))
        ok, error, _ = sandbox.run(slow, (30,), {})
        assert not ok and isinstance(error, WallTimeLimitExceeded)
        sandbox.close()
        ```
    """

    def __init__(self, *, grace: float = GRACE, max_functions: int = 64) -> None:
        self.max_functions = max_functions
        self._backend = ProcessBackend(1, start_method="exec", grace=grace)
        self._functions: dict[str, PickledCall] = {}
        self._task: Task[..., Any] = Task(_sandboxed, name="sandboxed")
        self._finalizer = weakref.finalize(self, _stop, self._backend)

    @property
    def pid(self) -> int | None:
        """The child's process id, once it runs."""
        pids = self._backend.pids
        return pids[0] if pids else None

    def run(
        self,
        fn: PackedFunction,
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        *,
        cancelled: Callable[[], bool] | None = None,
        poll: float = 0.25,
    ) -> Outcome:
        """Run ``fn(*args, **kwargs)`` in the child and wait for its outcome; never raises.

        Args:
            fn: The packed function.
            args: Its positional arguments.
            kwargs: Its keyword arguments.
            cancelled: Asked every ``poll`` seconds while the call runs; once it returns
                true, the child is killed and the call ends with `CallCancelledError`.
            poll: Seconds between two questions to ``cancelled``.

        Returns:
            ``(True, value, None)`` or ``(False, exception, traceback text)``, where the
            exception may be the function's own, a limit's, `WorkerDiedError`,
            `CallCancelledError` or `NotPicklableError`.
        """
        try:
            data = pickle_call(args, kwargs)
        except NotPicklableError as e:
            return (False, e, None)
        return unpickle_outcome(self.run_pickled(fn, data, cancelled=cancelled, poll=poll))

    def run_pickled(
        self,
        fn: PackedFunction,
        data: bytes,
        *,
        cancelled: Callable[[], bool] | None = None,
        poll: float = 0.25,
        where: str | None = None,
    ) -> bytes:
        """`run` with the arguments from `pickle_call`, returning the outcome pickled.

        ``where`` names the engine's worker in the message of a `WorkerDiedError`.
        """
        entry = self._functions.get(fn.key)
        if entry is None:
            if len(self._functions) >= self.max_functions:
                self._backend.shutdown(cancel=True)
                self._functions.clear()
            entry = self._functions[fn.key] = PickledCall(fn)
        # The child applies the limits itself (inside `PickledCall`); the back end enforces
        # them as hard bounds from here.
        call = Call(self._task, entry, (data,), {}, fn.limits, wrapped=False)
        backend = self._backend
        wait = None if cancelled is None else poll
        try:
            backend.start()
            try:
                backend.submit(call)
            except NotPicklableError as e:
                return pickle.dumps((False, e, None), PROTOCOL)
            while not call.done():
                backend.wait(wait)
                if not call.done() and cancelled is not None and cancelled():
                    backend.shutdown(cancel=True)
                    cancel = CallCancelledError("the call was cancelled")
                    return pickle.dumps((False, cancel, None), PROTOCOL)
        except BaseException:
            # Interrupted (a KeyboardInterrupt from the engine cancelling the task, ...):
            # the child goes with the call.
            backend.shutdown(cancel=True)
            raise
        if call.state is CallState.DONE:
            out: bytes = call.value
            return out
        error: BaseException | None = call.error
        if where is not None and isinstance(error, WorkerDiedError):
            error = WorkerDiedError(
                f"{error} (the sandbox process of {where})",
                pid=error.pid,
                exitcode=error.exitcode,
                signal=error.signal,
            )
        return pickle.dumps((False, error, call.traceback), PROTOCOL)

    def close(self) -> None:
        """Stop the child (a closed sandbox starts a new one when it runs again)."""
        self._backend.shutdown(cancel=True)
        self._functions.clear()


def _stop(backend: ProcessBackend) -> None:
    backend.shutdown(cancel=True)


_local = threading.local()


def thread_sandbox() -> Sandbox:
    """The calling thread's sandbox (created on first use, stopped when the thread ends)."""
    sandbox: Sandbox | None = getattr(_local, "sandbox", None)
    if sandbox is None:
        sandbox = _local.sandbox = Sandbox()
    return sandbox


def run_packed(
    call: bytes,
    *,
    cancelled: Callable[[], bool] | None = None,
    where: str | None = None,
    sandbox: bool | Literal["limits"] = True,
) -> bytes:
    """Run a call in the calling thread's sandbox: what an engine's worker runs.

    Args:
        call: The call, from `pack_call` where the scheduler runs.
        cancelled: See `Sandbox.run`.
        where: The engine's worker, for the message of a `WorkerDiedError`.
        sandbox: ``"limits"`` runs a call without limits right here instead, in this thread:
            for an engine whose workers are processes that run one call at a time, so that
            a crash costs that call alone anyway (Ray). Calls with limits always run in the
            sandbox.

    Returns:
        The outcome, pickled: `unpickle_outcome` reads it where the scheduler runs. The worker
        in between never unpickles user objects (only the packed function's description),
        unless the call runs right here.
    """
    fn, data = unpack_call(call)
    if sandbox is True or fn.limits is not None:
        return thread_sandbox().run_pickled(fn, data, cancelled=cancelled, where=where)
    # In the engine's worker process, which runs one call at a time: what the call leaves
    # behind (processes, directory, environment) goes with it, as in a sandbox.
    with left_as_found():
        return PickledCall(fn)(data)
