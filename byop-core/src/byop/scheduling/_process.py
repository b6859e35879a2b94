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
import multiprocessing
import os
import pickle
import select
import signal
import sys
import time
from collections import deque
from typing import Any

from byop.scheduling._backend import check_picklable
from byop.scheduling._call import Call, CallState
from byop.scheduling._errors import CallCancelledError, NotPicklableError, WorkerDiedError
from byop.scheduling._launch import ExecProcess, PassedFd
from byop.scheduling._limits import (
    CPUTimeLimitExceeded,
    Limits,
    WallTimeLimitExceeded,
    memory_hint,
)
from byop.scheduling._names import function_label
from byop.scheduling._wire import Channel
from byop.scheduling._worker import PROTOCOL, worker_main

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

GRACE = 0.3
"""Seconds past a wall-time or CPU-time limit after which a worker is killed from outside."""

LOADING_ALLOWANCE = 120.0
"""Seconds a worker may take to start and load a call's function (imports included) before the
call's wall-time limit starts; the worker says when the call starts, and its limit runs from
there."""


class _Worker:
    __slots__ = (
        "call",
        "channel",
        "cpu_at_start",
        "cpu_deadline",
        "functions",
        "kill_at",
        "kill_reason",
        "pid",
        "process",
        "sentinel",
    )

    def __init__(self, process: Any, channel: Channel) -> None:
        self.process = process
        self.channel = channel
        self.pid: int = process.pid
        self.sentinel: int = process.sentinel
        self.functions: set[int] = set()
        self.call: Call | None = None
        self.kill_at: float | None = None
        self.kill_reason: BaseException | None = None
        self.cpu_at_start = 0.0
        self.cpu_deadline: float | None = None


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


_HINTS = {
    "SIGKILL": (
        " SIGKILL comes from `kill -9`, from byop enforcing a limit, or from the kernel's "
        "out-of-memory killer when the machine runs out of memory (set a memory_limit)."
    ),
    "SIGSEGV": " A segmentation fault: native code crashed.",
    "SIGABRT": " The process aborted (a failed assertion in native code, or abort()).",
    "SIGBUS": " A bus error in native code.",
}


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
        self._workers: dict[int, _Worker] = {}  # by pid
        self._idle: deque[_Worker] = deque()
        self._queue: deque[Call] = deque()
        self._functions: dict[int, tuple[bytes, Limits | None]] = {}
        self._function_keys: dict[int, int] = {}
        self._poll = select.poll()
        self._fd_owner: dict[int, tuple[_Worker, bool]] = {}
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

    def _spawn(self) -> _Worker:
        to_worker_r, to_worker_w = os.pipe()
        to_main_r, to_main_w = os.pipe()
        args: tuple[Any, ...]
        process: Any
        if self.start_method == "exec":
            process = ExecProcess(to_worker_r, to_main_w)
        else:
            if self.start_method == "fork":
                # A forked worker inherits every descriptor: it closes those not its own.
                args = (to_worker_r, to_main_w, [*self._inherited_fds(), to_worker_w, to_main_r])
            else:
                # Only the descriptors passed reach a spawned worker (at other numbers).
                args = (PassedFd(to_worker_r), PassedFd(to_main_w), [])
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
        worker = _Worker(process, Channel(to_main_r, to_worker_w))
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
        self._registration(call)
        if self._idle:
            self._dispatch(self._idle.popleft(), call)
        else:
            self._queue.append(call)

    def _registration(self, call: Call) -> int:
        fn = call.fn
        key = self._function_keys.get(id(fn))
        if key is None:
            data = check_picklable(fn, function_label(fn))
            key = len(self._functions)
            self._functions[key] = (data, call.applied_limits)
            self._function_keys[id(fn)] = key
        call.handle = key
        return key

    def _dispatch(self, worker: _Worker, call: Call) -> None:
        key: int = call.handle
        registration = None if key in worker.functions else self._functions[key]
        try:
            data = pickle.dumps(
                (call.id, key, registration, call.args, call.kwargs or None), PROTOCOL
            )
        except Exception as e:
            self._idle.appendleft(worker)
            raise NotPicklableError(
                f"The arguments of {function_label(call.fn)} cannot be sent to a worker process: "
                f"{type(e).__name__}: {e}. Pass plain data (numbers, strings, dicts, arrays, "
                "attrs classes) and create other objects inside the function."
            ) from e
        try:
            worker.channel.send(data)
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
            if limits.wall_time is not None:
                # A worker that must first start or load the function has until it says the
                # call starts (see _call_started), with a generous bound on the loading too.
                loading = LOADING_ALLOWANCE if registration is not None else 0.0
                worker.kill_at = time.monotonic() + limits.wall_time + self.grace + loading
            if limits.cpu_time is not None:
                worker.cpu_at_start = _cpu_seconds(worker.pid)
                loading = LOADING_ALLOWANCE if registration is not None else 0.0
                worker.cpu_deadline = limits.cpu_time + self.grace + loading

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
            deaths: list[_Worker] = []
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
                    deaths.append(worker)
                    continue
                call = self._receive(worker)
                if call is not None:
                    finished.append(call)
            for worker in deaths:
                if worker.pid in self._workers:
                    call = self._died(worker)
                    if call is not None:
                        finished.append(call)
            finished.extend(self._enforce())
            if woken or (end is not None and time.monotonic() >= end):
                break
        return finished

    def _poll_timeout(self, end: float | None) -> int | None:
        now = time.monotonic()
        nearest = end
        for w in self._workers.values() if self._limited else ():
            if w.call is None:
                continue
            if w.kill_at is not None:
                nearest = w.kill_at if nearest is None else min(nearest, w.kill_at)
            if w.cpu_deadline is not None:
                tick = now + 0.05
                nearest = tick if nearest is None else min(nearest, tick)
        if nearest is None:
            return None
        return max(0, int((nearest - now) * 1000) + 1)

    def _receive(self, worker: _Worker) -> Call | None:
        try:
            messages = worker.channel.read_ready()
        except OSError:
            return None
        if not messages:
            return None  # a partial message, or end of file (the sentinel reports the death)
        message = pickle.loads(messages[-1])
        if len(message) == 1:
            self._call_started(worker, message[0])  # the call starts now: its limits from here
            return None
        call_id, ok, value, tb = message
        call = worker.call
        worker.call = None
        if worker.kill_at is not None or worker.cpu_deadline is not None:
            worker.kill_at = None
            worker.cpu_deadline = None
            self._limited -= 1
        if self._queue:
            self._dispatch_next(worker)
        else:
            self._idle.append(worker)
        if call is None or call.id != call_id:
            return None
        call.record((ok, value, tb))
        return call

    def _call_started(self, worker: _Worker, call_id: int) -> None:
        """The worker loaded the call's function and starts it: its hard bounds start now."""
        call = worker.call
        if call is None or call.id != call_id or call.limits is None:
            return
        if worker.kill_at is not None and call.limits.wall_time is not None:
            worker.kill_at = time.monotonic() + call.limits.wall_time + self.grace
        if worker.cpu_deadline is not None and call.limits.cpu_time is not None:
            worker.cpu_at_start = _cpu_seconds(worker.pid)
            worker.cpu_deadline = call.limits.cpu_time + self.grace

    def _dispatch_next(self, worker: _Worker) -> None:
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
            reason: BaseException | None = None
            if worker.kill_at is not None and now >= worker.kill_at:
                reason = WallTimeLimitExceeded(
                    f"the call ran past its wall-time limit of {call.limits.wall_time:g} s and "
                    f"did not stop within {self.grace:g} s; its worker was killed"
                )
            elif worker.cpu_deadline is not None:
                used = _cpu_seconds(worker.pid) - worker.cpu_at_start
                if used >= worker.cpu_deadline:
                    reason = CPUTimeLimitExceeded(
                        f"the call used more than its CPU-time limit of "
                        f"{call.limits.cpu_time:g} s and did not stop; its worker was killed"
                    )
            if reason is not None:
                worker.kill_reason = reason
                self._kill(worker)
                finished = self._died(worker)
                if finished is not None:
                    out.append(finished)
        return out

    def _kill(self, worker: _Worker) -> None:
        """Kill the worker and its process group (what its calls started), and reap it."""
        for target in (-worker.pid, worker.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(target, signal.SIGKILL)
        worker.process.join()

    def _died(self, worker: _Worker) -> Call | None:
        """Forget a dead worker, fail its call, and start a replacement."""
        if worker.call is not None and (
            worker.kill_at is not None or worker.cpu_deadline is not None
        ):
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
        call.fail(self._death_error(worker, call), None)
        return call

    def _death_error(self, worker: _Worker, call: Call) -> WorkerDiedError:
        code = worker.process.exitcode
        what = function_label(call.fn)
        memory = memory_hint(call.limits)
        if code is not None and code < 0:
            name = _signal_name(-code)
            return WorkerDiedError(
                f"The worker process (pid {worker.pid}) running {what} was killed by "
                f"{name}.{_HINTS.get(name, '')}{memory}",
                pid=worker.pid,
                signal=name,
            )
        return WorkerDiedError(
            f"The worker process (pid {worker.pid}) running {what} exited with code {code} "
            "before the call returned (os._exit(), sys.exit() from a thread, or native code "
            f"ending the process).{memory}",
            pid=worker.pid,
            exitcode=code,
        )

    def _forget(self, worker: _Worker) -> None:
        self._workers.pop(worker.pid, None)
        for fd in (worker.channel.rfd, worker.sentinel):
            self._fd_owner.pop(fd, None)
            with contextlib.suppress(KeyError, ValueError):
                self._poll.unregister(fd)
        with contextlib.suppress(ValueError):
            self._idle.remove(worker)
        worker.channel.close()

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
                    worker.channel.send(pickle.dumps(None))
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
        self._function_keys.clear()
        self._limited = 0
        return ended

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers alive now."""
        return list(self._workers)
