"""Back ends: where calls run. The scheduler drives any of them through one small protocol."""

from __future__ import annotations

import collections
import functools
import pickle
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from byop.scheduling._call import Call, CallState
from byop.scheduling._errors import CallCancelledError, NotPicklableError
from byop.scheduling._execute import Outcome, execute


@runtime_checkable
class Backend(Protocol):
    """What the scheduler needs of a back end.

    ``submit`` hands over a call; ``wait`` blocks until calls finish and returns them (with
    their result or exception recorded on the call); ``shutdown`` stops the back end, and with
    ``cancel`` ends the calls still queued or running and returns them.
    """

    name: str
    in_process: bool
    """Whether calls run in this process (they then share its objects)."""

    def start(self) -> None:
        """Get ready to run calls (start workers, connect)."""
        ...

    def submit(self, call: Call) -> None:
        """Run ``call``; raise `NotPicklableError` if it cannot be sent to where it would run."""
        ...

    def wait(self, timeout: float | None) -> list[Call]:
        """Finished calls (at least one), or ``[]`` after ``timeout`` or a `wakeup`."""
        ...

    def wakeup(self) -> None:
        """Make a blocked `wait` return; callable from any thread."""
        ...

    def shutdown(self, *, cancel: bool) -> list[Call]:
        """Stop. With ``cancel``, end every unfinished call and return them."""
        ...


def check_picklable(fn: Any, what: str) -> bytes:
    """Pickle ``fn`` by value where needed (cloudpickle), or explain why it cannot be sent."""
    import cloudpickle

    try:
        data: bytes = cloudpickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:
        raise NotPicklableError(
            f"{what} cannot be sent to a worker process: {type(e).__name__}: {e}. Make sure it "
            "does not hold (or close over) objects that cannot be pickled, such as locks, open "
            "files, sockets or database connections; create those inside the function instead, "
            "or run in this process with Scheduler.with_threads()."
        ) from e
    return data


T = TypeVar("T")
_WAKEUP: Any = object()


class Inbox(Generic[T]):
    """What callback threads hand to a back end's `Backend.wait`: finished calls, or news.

    `put` and `wakeup` work from any thread. `take` blocks until the first item arrives (or
    ``timeout`` passes, or a `wakeup`), then takes every other item already there.

    Example:
        ```python
        from byop.scheduling import Inbox

        inbox: Inbox[int] = Inbox()
        inbox.put(1)
        inbox.wakeup()
        inbox.put(2)
        assert inbox.take(timeout=0) == [1, 2]
        assert inbox.take(timeout=0) == []
        ```
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def put(self, item: T) -> None:
        """Hand ``item`` to `take`."""
        self._queue.put(item)

    def wakeup(self) -> None:
        """Make a blocked `take` return, with what is there (perhaps nothing)."""
        self._queue.put(_WAKEUP)

    def take(self, timeout: float | None) -> list[T]:
        """The items that have arrived, waiting up to ``timeout`` seconds for the first."""
        q = self._queue
        try:
            first = q.get(timeout=timeout)
        except queue.Empty:
            return []
        out: list[T] = [] if first is _WAKEUP else [first]
        while True:
            try:
                item = q.get_nowait()
            except queue.Empty:
                return out
            if item is not _WAKEUP:
                out.append(item)

    def clear(self) -> None:
        """Drop whatever has not been taken."""
        self.take(timeout=0)


def describe(fn: Any) -> str:
    """A readable name for a function: ``poly (module __main__)``."""
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    module = getattr(fn, "__module__", None)
    return f"{name} (module {module})" if module else str(name)


class SequentialBackend:
    """Runs each call in this thread, one at a time, when the scheduler waits. For debugging."""

    name = "sequential"
    in_process = True

    def __init__(self) -> None:
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
        call.record(execute(call.fn, call.args, call.kwargs, call.applied_limits))
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


class ExecutorBackend:
    """Any `concurrent.futures.Executor` as a back end (threads, a process pool, Dask...).

    Limits are enforced inside the executor's worker (see `byop.scheduling.Limits`). A worker
    of a `ProcessPoolExecutor` that dies breaks the pool, and every call in flight fails with
    it: use byop's own process back end (``Scheduler.with_processes``) for crash isolation.

    Args:
        executor: The executor.
        owned: Whether byop created it (and shuts it down) or the user did (byop leaves it up).
        name: A name for messages.
    """

    def __init__(
        self,
        executor: Executor,
        *,
        owned: bool = False,
        name: str | None = None,
        factory: Callable[[], Executor] | None = None,
    ) -> None:
        self.executor = executor
        self.owned = owned
        self._factory = factory
        self._shut = False
        self.name = name or type(executor).__name__
        self.in_process = isinstance(executor, ThreadPoolExecutor)
        self._done: Inbox[Call] = Inbox()
        self._running: dict[int, Call] = {}
        self._lock = threading.Lock()
        self._pickled: set[int] = set()

    def start(self) -> None:
        """Recreate an owned executor that an earlier run shut down."""
        if self._shut and self._factory is not None:
            self.executor = self._factory()
        self._shut = False

    def submit(self, call: Call) -> None:
        """Submit through the executor; the result arrives through a done-callback."""
        if isinstance(self.executor, ProcessPoolExecutor):
            self._check(call)
        future = self.executor.submit(execute, call.fn, call.args, call.kwargs, call.applied_limits)
        call.handle = future
        call.state = CallState.RUNNING
        with self._lock:
            self._running[call.id] = call
        future.add_done_callback(functools.partial(self._finished, call))

    def _check(self, call: Call) -> None:
        key = id(call.fn)
        if key not in self._pickled:
            check_picklable(call.fn, describe(call.fn))
            self._pickled.add(key)
        try:
            pickle.dumps((call.args, call.kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            raise NotPicklableError(
                f"The arguments of {describe(call.fn)} cannot be sent to a worker process: "
                f"{type(e).__name__}: {e}."
            ) from e

    def _finished(self, call: Call, future: Future[Outcome]) -> None:
        with self._lock:
            if self._running.pop(call.id, None) is None:
                return  # already ended by shutdown(cancel=True)
        if future.cancelled():
            call.cancel(CallCancelledError("the call was cancelled before it ran"))
        elif (exc := future.exception()) is not None:
            call.fail(exc, None)
        else:
            call.record(future.result())
        self._done.put(call)

    def wait(self, timeout: float | None) -> list[Call]:
        """The calls that have finished, waiting up to ``timeout`` for the first."""
        return self._done.take(timeout)

    def wakeup(self) -> None:
        """Wake `wait`."""
        self._done.wakeup()

    def shutdown(self, *, cancel: bool) -> list[Call]:
        """Shut an owned executor down; with ``cancel``, end the calls still running."""
        ended: list[Call] = []
        if cancel:
            with self._lock:
                ended = list(self._running.values())
                self._running.clear()
            for call in ended:
                future = call.handle
                if isinstance(future, Future) and future.cancel():
                    call.cancel(CallCancelledError("the scheduler stopped before this call ran"))
                else:
                    call.cancel(
                        CallCancelledError(
                            "the scheduler stopped while this call was running; its result is "
                            f"discarded ({self.name} cannot terminate a running call)"
                        )
                    )
        if self.owned:
            self.executor.shutdown(wait=not cancel, cancel_futures=cancel)
            self._shut = True
        return ended


def thread_backend(n_workers: int = 1) -> ExecutorBackend:
    """A pool of ``n_workers`` threads in this process."""

    def make() -> Executor:
        return ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="byop-worker")

    return ExecutorBackend(make(), owned=True, name="threads", factory=make)


def as_backend(executor: Any) -> Any:
    """A `Backend` from a back end, or any `concurrent.futures.Executor`."""
    if isinstance(executor, Executor):
        return ExecutorBackend(executor, owned=False)
    if isinstance(executor, Backend):
        return executor
    raise TypeError(
        "Scheduler(...) takes a concurrent.futures.Executor or a byop back end, got "
        f"{type(executor).__name__}. For byop's own, use Scheduler.with_processes(n), "
        ".with_threads(n), .with_sequential() or .with_backend(name)."
    )
