"""byop's own process back end: one pipe per worker, crash isolation, hard limits.

Each worker is a process fed over its own pipe (`byop.scheduling._worker` is its side). The
main process keeps the calls: it sends a call to an idle worker, reads the outcome back, and
watches every worker for death. A worker that dies (a signal, ``os._exit``, a segfault, the
kernel's OOM killer) costs only the call it was running, which fails with `WorkerDiedError`;
the worker is replaced and the run goes on.

Limits are enforced in the worker (timers, signals and ``RLIMIT_DATA``, see
`byop.scheduling._limits`) and, as a hard bound, from here: a worker whose call runs past its
wall-time (or CPU-time) limit by more than a short grace period is killed, with everything it
started.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import pickle
import select
import signal
import sys
import time
from collections import deque
from typing import Any

from byop.scheduling._call import Call, CallState
from byop.scheduling._compact import Compactor
from byop.scheduling._errors import CallCancelledError, NotPicklableError
from byop.scheduling._launch import ExecProcess, PassedFd
from byop.scheduling._limit_spec import Limits
from byop.scheduling._names import function_label
from byop.scheduling._progress import Progress
from byop.scheduling._watch import Function, Worker, death_error
from byop.scheduling._wire import Channel, PickleFailedError
from byop.scheduling._worker import worker_main

loads = pickle.loads

GRACE = 0.3
"""Seconds past a wall-time or CPU-time limit after which a worker is killed from outside."""


class ProcessBackend:
    """Runs calls in ``n_workers`` worker processes, each fed over its own pipe.

    Args:
        n_workers: How many worker processes run calls at once.
        start_method: How workers start: ``"fork"`` (the default on Linux: fast, and the
            functions of a script or notebook are there already), ``"forkserver"`` or
            ``"spawn"`` (safer when the main process runs threads; functions defined in
            ``__main__`` are then sent by value), or ``"exec"``: a fresh interpreter that
            gets only this process's ``sys.path``, never forked from it and importing nothing
            of its ``__main__`` (what sandboxes inside Dask and Ray workers use).
        grace: Seconds past a wall-time or CPU-time limit before a worker is killed.
    """

    name = "processes"
    exhausted = False

    def __init__(
        self, n_workers: int | None = 1, *, start_method: str | None = None, grace: float = GRACE
    ) -> None:
        if n_workers is None:
            n_workers = 1
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
        self.n_workers = n_workers
        if start_method is None:
            start_method = "fork" if sys.platform == "linux" else "spawn"
        self.start_method = start_method
        self.grace = grace
        self._ctx: Any = (
            None if start_method == "exec" else multiprocessing.get_context(start_method)
        )
        self._workers: dict[int, Worker] = {}  # by pid
        self._idle: deque[Worker] = deque()
        self._queue: deque[Call] = deque()
        self._functions: dict[tuple[int, int], Function] = {}  # by function and limits
        self._keys = itertools.count()
        self._codes: dict[type, Any] = {}  # see Compactor
        self._last: Function | None = None  # the function registered or used last
        self._due: float | None = None  # when `_enforce` next has something to check
        self._poll = select.poll()
        self._fd_owner: dict[int, tuple[Worker, bool]] = {}
        self._wake_r = -1
        self._wake_w = -1
        self._started = False
        self._late_failures: list[Call] = []
        self._limited = 0  # running calls with a wall-time or CPU-time limit

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Create the pipes and fork the workers."""
        if self._started:
            return
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._poll.register(self._wake_r, select.POLLIN)
        self._started = True
        for _ in range(self.n_workers):
            self._spawn()

    def _spawn(self) -> Worker:
        to_worker_r, to_worker_w = os.pipe()
        to_main_r, to_main_w = os.pipe()
        progress = Progress()
        args: tuple[Any, ...]
        process: Any
        if self.start_method == "exec":
            process = ExecProcess(to_worker_r, to_main_w, progress.fd)
        else:
            if self.start_method == "fork":
                # A forked worker inherits every descriptor: it closes those not its own.
                close = [*self._inherited_fds(), to_worker_w, to_main_r]
                args = (to_worker_r, to_main_w, close, progress.fd)
            else:
                # Only the descriptors passed reach a spawned worker (at other numbers).
                args = (PassedFd(to_worker_r), PassedFd(to_main_w), [], PassedFd(progress.fd))
            process = self._ctx.Process(
                target=worker_main, args=args, name="byop-worker", daemon=False
            )
        process.start()
        # Both sides set the worker's process group, so it holds from the start, whichever
        # runs first (the classic race of job-control shells).
        with contextlib.suppress(OSError):
            os.setpgid(process.pid, process.pid)
        os.close(to_worker_r)
        os.close(to_main_w)
        progress.close_fd()
        channel = Channel(to_main_r, to_worker_w, peer=process.pid)
        worker = Worker(process, channel, progress, Compactor(self._codes))
        self._workers[worker.pid] = worker
        self._fd_owner[to_main_r] = (worker, False)
        self._fd_owner[worker.sentinel] = (worker, True)
        self._poll.register(to_main_r, select.POLLIN)
        self._poll.register(worker.sentinel, select.POLLIN)
        self._idle.append(worker)
        return worker

    def _inherited_fds(self) -> list[int]:
        fds = [self._wake_r, self._wake_w]
        for w in self._workers.values():
            fds.extend((w.channel.rfd, w.channel.wfd, w.sentinel))
        return fds

    # ---------------------------------------------------------------- submitting
    def submit(self, call: Call) -> None:
        """Send the call to an idle worker, or queue it until one is free."""
        fn = call.fn
        limits = call.limits if call.wrapped else None
        entry = self._last
        if entry is None or entry.fn is not fn or entry.limits is not limits:
            entry = self._register(fn, limits)
        call.handle = entry
        if self._idle:
            self._dispatch(self._idle.popleft(), call)
        else:
            self._queue.append(call)

    def _register(self, fn: Any, limits: Limits | None) -> Function:
        entry = self._functions.get((id(fn), id(limits)))
        if entry is None or entry.fn is not fn or entry.limits is not limits:
            entry = Function(next(self._keys), fn, limits)
            self._functions[(id(fn), id(limits))] = entry
        self._last = entry
        return entry

    def _dispatch(self, worker: Worker, call: Call) -> None:
        entry: Function = call.handle
        key = entry.key
        registration = None
        if key not in worker.functions:
            registration = (entry.data, entry.limits, entry.wire is not None)
        args = call.args if entry.wire is None else entry.wire(call.args, worker.compactor.compact)
        try:
            worker.channel.send((call.id, key, registration, args, call.kwargs or None))
        except PickleFailedError as e:
            self._idle.appendleft(worker)
            raise NotPicklableError(
                f"The arguments of {function_label(call.fn)} cannot be sent to a worker process: "
                f"{e}. Pass plain data (numbers, strings, dicts, arrays, attrs classes) and "
                "create other objects inside the function."
            ) from e.__cause__
        except OSError:
            # The worker is gone; the death is noticed by wait(). Queue the call again.
            self._queue.appendleft(call)
            return
        worker.functions.add(key)
        worker.call = call
        call.state = CallState.RUNNING
        limits = call.limits
        if limits is not None and (limits.wall_time is not None or limits.cpu_time is not None):
            self._limited += 1
            worker.arm(limits, self.grace)

    # ---------------------------------------------------------------- waiting
    def wait(self, timeout: float | None) -> list[Call]:
        """Block until calls finish, a worker dies, a limit needs enforcing, or `wakeup`."""
        finished: list[Call] = []
        end = None if timeout is None else time.monotonic() + timeout
        while not finished:
            poll_ms = self._poll_timeout(end)
            try:
                events = self._poll.poll(poll_ms)
            except InterruptedError:  # pragma: no cover - PEP 475 retries poll
                events = []
            woken = False
            deaths: list[Worker] | None = None
            for fd, _ in events:
                if fd == self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                    woken = True
                    continue
                owner = self._fd_owner.get(fd)
                if owner is None:
                    continue
                worker, is_sentinel = owner
                if is_sentinel:
                    deaths = [worker] if deaths is None else [*deaths, worker]
                    continue
                call = self._receive(worker)
                if call is not None:
                    finished.append(call)
            for worker in deaths or ():
                if worker.pid in self._workers:
                    call = self._died(worker)
                    if call is not None:
                        finished.append(call)
            if self._late_failures or (
                self._limited and self._due is not None and time.monotonic() >= self._due
            ):
                finished.extend(self._enforce())
            if woken or (end is not None and time.monotonic() >= end):
                break
        return finished

    def _poll_timeout(self, end: float | None) -> int | None:
        """Milliseconds to poll: until ``end``, or the next limit to check (sets ``_due``)."""
        if end is None and not self._limited:
            return None
        now = time.monotonic()
        due = None
        for w in self._workers.values() if self._limited else ():
            if w.call is None:
                continue
            if w.kill_at is not None and (due is None or w.kill_at < due):
                due = w.kill_at
            if w.cpu_deadline is not None and (due is None or now + 0.05 < due):
                due = now + 0.05  # CPU time is read every 50 ms
        self._due = due
        nearest = end if due is None or (end is not None and end < due) else due
        if nearest is None:
            return None
        return max(0, int((nearest - now) * 1000) + 1)

    def _receive(self, worker: Worker) -> Call | None:
        try:
            messages = worker.channel.read_ready()
        except OSError:
            return None
        if not messages:
            return None  # a partial message, or end of file (the sentinel reports the death)
        data, buffers = messages[-1]
        call = worker.call
        try:
            message = pickle.loads(data, buffers=buffers) if buffers else loads(data)
        except Exception as e:  # the call's outcome, which this process cannot unpickle
            message = e
        if type(message) is tuple and len(message) == 3:  # the call's progress: answer it
            self._progress(worker, call, *message)
            return None
        try:
            if isinstance(message, Exception):
                raise message
            call_id, ok, value, tb = message
        except Exception as e:
            call_id, ok, tb = -1 if call is None else call.id, False, None
            value = NotPicklableError(
                f"The outcome of {'a call' if call is None else function_label(call.fn)} "
                f"cannot be unpickled in the main process: {type(e).__name__}: {e}. Return "
                "objects of classes this process can import (plain data, numpy arrays...)."
            )
        worker.call = None
        if worker.disarm():
            self._limited -= 1
        if self._queue:
            self._dispatch_next(worker)
        else:
            self._idle.append(worker)
        if call is None or call.id != call_id:
            return None
        if ok:
            call.succeed(value)
        else:
            call.fail(value, tb)
        return call

    def _progress(
        self, worker: Worker, call: Call | None, call_id: int, step: float, values: Any
    ) -> None:
        """Answer the progress the worker's call reported (the worker waits for it)."""
        stop = True
        try:
            if call is not None and call.id == call_id:
                stop = call.task.progress(call, step, values)
        finally:
            with contextlib.suppress(OSError):
                worker.channel.send(bool(stop))

    def _dispatch_next(self, worker: Worker) -> None:
        while self._queue:
            call = self._queue.popleft()
            try:
                self._dispatch(worker, call)
            except NotPicklableError as e:
                call.fail(e, None)
                self._late_failures.append(call)
                continue
            if worker.call is call:
                return
        self._idle.append(worker)

    def _enforce(self) -> list[Call]:
        """Kill workers whose calls ran past a limit plus the grace period."""
        out: list[Call] = []
        if self._late_failures:
            out.extend(self._late_failures)
            self._late_failures = []
        if not self._limited:
            return out
        now = time.monotonic()
        for worker in list(self._workers.values()):
            call = worker.call
            if call is None or call.limits is None:
                continue
            armed = worker.armed
            reason = worker.overdue(call, call.limits, now, self.grace)
            if armed and not worker.armed:  # it returned in time: its result is on the way
                self._limited -= 1
            if reason is not None:
                worker.kill_reason = reason
                self._kill(worker)
                finished = self._died(worker)
                if finished is not None:
                    out.append(finished)
        return out

    def _kill(self, worker: Worker) -> None:
        """Kill the worker and its process group (what its calls started), and reap it."""
        for target in (-worker.pid, worker.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(target, signal.SIGKILL)
        worker.process.join()

    def _died(self, worker: Worker) -> Call | None:
        """Forget a dead worker, fail its call, and start a replacement."""
        if worker.call is not None and worker.disarm():
            self._limited -= 1
        self._forget(worker)
        self._kill(worker)  # dead already or not: take its process group with it, and reap
        call = worker.call
        worker.call = None
        replacement = self._spawn() if self._started else None
        if replacement is not None and self._queue:
            self._idle.remove(replacement)
            self._dispatch_next(replacement)
        if call is None:
            return None
        if worker.kill_reason is not None:
            call.fail(worker.kill_reason, None)
            return call
        call.fail(death_error(worker.pid, worker.process.exitcode, call.fn, call.limits), None)
        return call

    def _forget(self, worker: Worker) -> None:
        self._workers.pop(worker.pid, None)
        for fd in (worker.channel.rfd, worker.sentinel):
            self._fd_owner.pop(fd, None)
            with contextlib.suppress(KeyError, ValueError):
                self._poll.unregister(fd)
        with contextlib.suppress(ValueError):
            self._idle.remove(worker)
        worker.channel.close()
        worker.progress.close()

    def wakeup(self) -> None:
        """Wake `wait` from any thread."""
        if self._wake_w >= 0:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self._wake_w, b"x")

    # ---------------------------------------------------------------- stopping
    def shutdown(self, *, cancel: bool) -> list[Call]:
        """Stop every worker; with ``cancel``, terminate running calls and drop queued ones."""
        ended: list[Call] = []
        self._started = False
        if cancel:
            for call in self._queue:
                call.cancel(CallCancelledError("the scheduler stopped before this call ran"))
                ended.append(call)
            self._queue.clear()
        for worker in list(self._workers.values()):
            running = worker.call
            if running is not None and cancel:
                self._kill(worker)
                running.cancel(
                    CallCancelledError(
                        "the scheduler stopped while this call was running; its worker "
                        f"(pid {worker.pid}) was terminated"
                    )
                )
                ended.append(running)
                worker.call = None
            else:
                with contextlib.suppress(OSError):
                    worker.channel.send(None)
        deadline = time.monotonic() + 2.0
        for worker in list(self._workers.values()):
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                self._kill(worker)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(worker.pid, signal.SIGKILL)
            self._forget(worker)
            worker.process.close()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(KeyError, ValueError):
                    self._poll.unregister(fd)
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._wake_r = self._wake_w = -1
        self._functions.clear()
        self._last = None
        self._limited = 0
        return ended

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers alive now."""
        return list(self._workers)
