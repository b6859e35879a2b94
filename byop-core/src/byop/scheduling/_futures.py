"""Back ends whose engine hands back a future per call: one base for them all.

`FutureBackend` keeps the calls running, the inbox their ends arrive in, `wait`, `wakeup`
and the cancelling of what still runs when the run stops. A subclass says how a call starts
on its engine (`FutureBackend.launch`), how to watch it end (`FutureBackend.watch`), how to read
its outcome (`FutureBackend.settle`), how to cancel on the engine, and how to start and stop
the engine. byop's thread and executor back ends, Dask and Ray are built on it.
"""

from __future__ import annotations

import pickle
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from byop.scheduling._backend import check_picklable
from byop.scheduling._call import Call, CallState
from byop.scheduling._errors import CallCancelledError, NotPicklableError
from byop.scheduling._execute import Outcome, execute_in_thread, execute_in_worker_thread
from byop.scheduling._inbox import Inbox
from byop.scheduling._links import ProgressServer, address_toward, local_link
from byop.scheduling._names import function_label
from byop.scheduling._threads import WorkerThreads


class FutureBackend(ABC):
    """The base of back ends that run each call on an engine and learn of its end by callback.

    Subclasses implement `launch` and `settle`, and may override `watch`, `start`, `stop`,
    `cancel_on_engine` and `collect`. The engine's callbacks call `arrived` from any thread;
    `wait` hands the arrived items to `collect` in the scheduler's thread.

    Attributes:
        name: The back end's name, for messages.
        exhausted: Set by a subclass when its engine can run no more calls.
    """

    name = "futures"
    exhausted = False
    progress_host = "127.0.0.1"
    """Where the trials' progress reports reach this process (`progress_link`): an address
    the engine's workers can connect to."""

    def __init__(self) -> None:
        self._inbox: Inbox[tuple[Hashable, Any]] = Inbox()
        self._running: dict[Hashable, Call] = {}
        self._lock = threading.Lock()
        self._progress: ProgressServer | None = None

    def progress_link(self, call: Call) -> Callable[..., bool] | None:
        """The link by which the call's trial reports progress (`Trial.report_progress`).

        By default a link that travels with the trial to wherever the engine runs it (pickled
        with it), and connects back to a server this back end starts on `progress_host` at
        its first call. An engine that runs calls in this process returns `local_link`'s
        instead; one whose calls cannot reach back (or that does not pickle the trial)
        returns ``None``: its trials' ``report_progress`` then answers ``False``.
        """
        server = self._progress
        if server is None:
            server = self._progress = ProgressServer(self._on_progress, self.progress_host)
        return server.link(call.id)

    def listen_toward(self, host: str) -> None:
        """Hear progress on this machine's address toward ``host``; for subclasses' `start`.

        ``host`` is the engine's scheduler or head: its workers reach this machine the same way.
        """
        self.progress_host = address_toward(host)

    def _on_progress(self, call_id: int, step: float, values: dict[str, Any]) -> bool:
        with self._lock:
            call = next((c for c in self._running.values() if c.id == call_id), None)
        if call is None:
            return False  # not known (yet, or any more): its trial goes on
        return call.task.progress(call, step, values)

    # ------------------------------------------------------------------ for subclasses
    @abstractmethod
    def launch(self, call: Call) -> tuple[Hashable, Any]:
        """Start ``call`` on the engine; its key (unique among running calls) and handle.

        Raises:
            NotPicklableError: The call cannot be sent to the engine.
        """

    def watch(self, key: Hashable, handle: Any) -> None:
        """Arrange for `arrived` to be called with ``key`` once the call ends.

        By default ``handle`` is a `concurrent.futures.Future`-like object with
        ``add_done_callback``; the item that arrives is the future itself.
        """
        handle.add_done_callback(lambda future: self.arrived(key, future))

    def arrived(self, key: Hashable, item: Any) -> None:
        """A call ended (or the engine has news of it): hand it to `wait`. Any thread."""
        self._inbox.put((key, item))

    @abstractmethod
    def settle(self, call: Call, item: Any) -> None:
        """Record on ``call`` the outcome its arrived ``item`` carries (`Call.record`...)."""

    def collect(self, items: list[tuple[Hashable, Any]]) -> list[Call]:
        """The calls that ended, from what arrived; each settled once, in arrival order."""
        out: list[Call] = []
        for key, item in items:
            call = self.pop_running(key)
            if call is not None:
                self.settle(call, item)
                out.append(call)
        return out

    def cancel_on_engine(self, calls: list[Call]) -> Sequence[str | CallCancelledError]:
        """Cancel the calls on the engine (best effort); why each ended, for its error.

        Each is a message, or the `CallCancelledError` itself (to say it is still running).
        """
        return ["the scheduler stopped before this call finished" for _ in calls]

    def stop(self, *, cancel: bool) -> None:  # noqa: B027 - optional: most engines need it
        """Stop (or disconnect from) the engine at the end of a run."""

    def pop_running(self, key: Hashable) -> Call | None:
        """The running call of ``key``, which stops being running; ``None`` if it ended already."""
        with self._lock:
            return self._running.pop(key, None)

    # ------------------------------------------------------------------ the Backend protocol
    def start(self) -> None:  # noqa: B027 - optional: most engines need it
        """Start (or connect to) the engine."""

    def submit(self, call: Call) -> None:
        """Launch the call on the engine; it is running until its end arrives."""
        if call.task.reports_progress and (link := self.progress_link(call)) is not None:
            call.task.attach_progress(call, link)
        key, handle = self.launch(call)
        call.handle = handle
        call.state = CallState.RUNNING
        with self._lock:
            self._running[key] = call
        self.watch(key, handle)

    def wait(self, timeout: float | None) -> list[Call]:
        """The calls that have ended, waiting up to ``timeout`` for the first."""
        return self.collect(self._inbox.take(timeout))

    def wakeup(self) -> None:
        """Wake `wait`, from any thread."""
        self._inbox.wakeup()

    def shutdown(self, *, cancel: bool) -> list[Call]:
        """Stop the engine; with ``cancel``, end every call still running and return them."""
        ended: list[Call] = []
        with self._lock:
            if cancel:
                ended = list(self._running.values())
            self._running.clear()
        if ended:
            reasons: Sequence[str | CallCancelledError]
            try:
                reasons = self.cancel_on_engine(ended)
            except Exception as e:
                reasons = [f"the scheduler stopped before this call finished ({e})"] * len(ended)
            for call, reason in zip(ended, reasons, strict=True):
                error = reason if isinstance(reason, CallCancelledError) else None
                call.cancel(error or CallCancelledError(str(reason)))
        self.stop(cancel=cancel)
        self._inbox.clear()
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        return ended

    @property
    def running_calls(self) -> list[Call]:
        """The calls launched and not yet ended."""
        with self._lock:
            return list(self._running.values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, running={len(self._running)})"


class ExecutorBackend(FutureBackend):
    """Any `concurrent.futures.Executor` as a back end (threads, a process pool...).

    Limits are enforced inside the executor's worker (see `byop.scheduling.Limits`). A worker
    of a `ProcessPoolExecutor` that dies breaks the pool, and every call in flight fails with
    it: use byop's own process back end (``Scheduler.with_processes``) for crash isolation.

    Args:
        executor: The executor.
        owned: Whether byop created it (and shuts it down) or the user did (byop leaves it up).
        name: A name for messages.
        factory: Makes a new executor when an owned one was shut down by an earlier run.
    """

    def __init__(
        self,
        executor: Executor,
        *,
        owned: bool = False,
        name: str | None = None,
        factory: Callable[[], Executor] | None = None,
    ) -> None:
        super().__init__()
        self.executor = executor
        self.owned = owned
        self._factory = factory
        self._shut = False
        self.name = name or type(executor).__name__
        self._pickled: set[int] = set()

    def start(self) -> None:
        """Recreate an owned executor that an earlier run shut down."""
        if self._shut and self._factory is not None:
            self.executor = self._factory()
        self._shut = False

    @property
    def _own_threads(self) -> bool:
        return self.owned and isinstance(self.executor, WorkerThreads)

    def progress_link(self, call: Call) -> Callable[..., bool] | None:
        """Straight to the task for threads; through a server for a process pool."""
        if isinstance(self.executor, ProcessPoolExecutor):
            return super().progress_link(call)
        return local_link(call)

    def launch(self, call: Call) -> tuple[Hashable, Any]:
        """Submit the call through the executor."""
        if isinstance(self.executor, ProcessPoolExecutor):
            self._check(call)
        run = execute_in_worker_thread if self._own_threads else execute_in_thread
        future = self.executor.submit(run, call.fn, call.args, call.kwargs, call.applied_limits)
        return call.id, future

    def _check(self, call: Call) -> None:
        key = id(call.fn)
        if key not in self._pickled:
            check_picklable(call.fn, function_label(call.fn))
            self._pickled.add(key)
        try:
            pickle.dumps((call.args, call.kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            raise NotPicklableError(
                f"The arguments of {function_label(call.fn)} cannot be sent to a worker process: "
                f"{type(e).__name__}: {e}."
            ) from e

    def settle(self, call: Call, item: Future[Outcome]) -> None:
        """Record the future's outcome."""
        if item.cancelled():
            call.cancel(CallCancelledError("the call was cancelled before it ran"))
        elif (exc := item.exception()) is not None:
            call.fail(exc, None)
        else:
            call.record(item.result())

    def cancel_on_engine(self, calls: list[Call]) -> list[str | CallCancelledError]:
        """Cancel what has not started; a running call cannot be stopped by an executor."""
        reasons: list[str | CallCancelledError] = []
        for call in calls:
            future = call.handle
            if isinstance(future, Future) and future.cancel():
                reasons.append("the scheduler stopped before this call ran")
            else:
                reasons.append(
                    CallCancelledError(
                        "the scheduler stopped while this call was running; its result is "
                        f"discarded ({self.name} cannot terminate a running call: it runs on "
                        "until it returns)",
                        still_running=True,
                    )
                )
        return reasons

    def stop(self, *, cancel: bool) -> None:
        """Shut an owned executor down."""
        if self.owned:
            self.executor.shutdown(wait=not cancel, cancel_futures=cancel)
            self._shut = True


def thread_backend(n_workers: int | None = 1) -> ExecutorBackend:
    """A pool of ``n_workers`` threads in this process (one when ``None``).

    The threads are `WorkerThreads`: daemon threads, which never keep Python from exiting. A
    call still running when a run ends cannot be stopped: it runs on until it returns (its
    result discarded), or until the process exits. The processes a call starts end with the
    call; the working directory and the environment are the whole process's, shared with the
    calls running beside it and with the main thread, so a call should not change them.
    """
    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
    ):
        raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
    size = 1 if n_workers is None else n_workers

    def make() -> Executor:
        return WorkerThreads(size, thread_name_prefix="byop-worker")

    return ExecutorBackend(make(), owned=True, name="threads", factory=make)
