"""The threads of byop's thread back end: daemon threads, which never keep Python running.

A thread cannot be stopped from outside. A call still running when its run ends (a timeout,
``run(wait=False)``) keeps running: byop discards its result, and its limits, enforced by
raising an exception at its next Python instruction, stop it only once it runs Python code
again. ``concurrent.futures.ThreadPoolExecutor`` would then keep the interpreter from exiting
until the call returned, possibly never; these threads do not: when the main thread is done,
the process exits and they end with it, abruptly (their ``finally`` blocks do not run).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class WorkerThreads(Executor):
    """An executor over up to ``max_workers`` daemon threads, started as work arrives.

    Args:
        max_workers: How many calls may run at once.
        thread_name_prefix: The threads' names start with it.

    Example:
        ```python
        from byop.scheduling import WorkerThreads

        with WorkerThreads(2) as threads:
            assert threads.submit(pow, 2, 10).result() == 1024
        ```
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "byop-worker") -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"max_workers must be a positive int, got {max_workers!r}.")
        self.max_workers = max_workers
        self._prefix = thread_name_prefix
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in one of the threads; its future."""
        future: Future[T] = Future()
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self.max_workers:
                thread = threading.Thread(
                    target=self._work,
                    name=f"{self._prefix}_{len(self._threads)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        return future

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            future, fn, args, kwargs = work
            del work
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as e:
                    future.set_exception(e)
            del future, fn, args, kwargs  # nothing of the call outlives it here
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more work; with ``wait``, wait for the calls running (and queued) to end.

        With ``cancel_futures``, the calls that have not started are cancelled. The threads
        end once the calls they run return.
        """
        with self._lock:
            self._shut = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    work = self._queue.get_nowait()
                except queue.Empty:
                    break
                if work is not None:
                    work[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()

    @property
    def threads(self) -> list[threading.Thread]:
        """The threads started so far."""
        with self._lock:
            return list(self._threads)

    def __repr__(self) -> str:
        return f"WorkerThreads(max_workers={self.max_workers}, started={len(self._threads)})"
