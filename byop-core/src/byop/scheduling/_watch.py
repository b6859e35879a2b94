"""The main process's view of its worker processes.

What a worker runs (registered functions), the hard bounds of its call's time limits, its CPU
time, and why it died.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

from byop.scheduling._backend import check_picklable
from byop.scheduling._call import Call
from byop.scheduling._compact import Compactor
from byop.scheduling._errors import WorkerDiedError
from byop.scheduling._limit_spec import (
    CPUTimeLimitExceeded,
    Limits,
    WallTimeLimitExceeded,
    memory_hint,
)
from byop.scheduling._names import function_label
from byop.scheduling._progress import Progress
from byop.scheduling._wire import Channel

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Function:
    """A function registered with the back end: what a worker needs to run its calls."""

    __slots__ = ("data", "fn", "key", "limits", "wire")

    def __init__(self, key: int, fn: Any, limits: Limits | None) -> None:
        self.key = key
        self.fn = fn  # held, so that its id is not reused while registered
        self.limits = limits
        self.data = check_picklable(fn, function_label(fn))
        # A function with a wire form (a `TrialRunner`) sends its arguments as plain data.
        self.wire: Callable[..., tuple[Any, ...]] | None = getattr(fn, "wire_args", None)


class Worker:
    """The main process's handle on one worker process, and on the call it runs."""

    __slots__ = (
        "call",
        "channel",
        "compactor",
        "cpu_at_start",
        "cpu_deadline",
        "functions",
        "kill_at",
        "kill_reason",
        "pid",
        "process",
        "progress",
        "sentinel",
    )

    def __init__(
        self, process: Any, channel: Channel, progress: Progress, compactor: Compactor
    ) -> None:
        self.process = process
        self.channel = channel
        self.progress = progress
        self.compactor = compactor
        self.pid: int = process.pid
        self.sentinel: int = process.sentinel
        self.functions: set[int] = set()
        self.call: Call | None = None
        self.kill_at: float | None = None
        self.kill_reason: BaseException | None = None
        self.cpu_at_start = 0.0
        self.cpu_deadline: float | None = None

    @property
    def armed(self) -> bool:
        """Whether a hard bound (wall or CPU time) watches the running call."""
        return self.kill_at is not None or self.cpu_deadline is not None

    def arm(self, limits: Limits, grace: float) -> None:
        """Watch the call just sent: kill the worker ``grace`` s past its time limits."""
        if limits.wall_time is not None:
            self.kill_at = time.monotonic() + limits.wall_time + grace
        if limits.cpu_time is not None:
            self.cpu_at_start = cpu_seconds(self.pid)
            self.cpu_deadline = limits.cpu_time + grace

    def disarm(self) -> bool:
        """Stop watching; whether a bound was armed."""
        if self.kill_at is None and self.cpu_deadline is None:
            return False
        self.kill_at = None
        self.cpu_deadline = None
        return True

    def overdue(self, call: Call, limits: Limits, now: float, grace: float) -> BaseException | None:
        """Why the worker must be killed now (its call ran past a limit), or ``None``.

        A limit counts from when the worker started the call, and stops when the call returns:
        neither the worker's start-up nor the transfer of a large result counts. Once the call
        returned, the bounds are disarmed.
        """
        wall = self.kill_at is not None and now >= self.kill_at
        if not wall:
            if self.cpu_deadline is None:
                return None
            if cpu_seconds(self.pid) - self.cpu_at_start < self.cpu_deadline:
                return None
        started, started_at, ended = self.progress.read()
        if ended == call.id:  # it returned in time; what takes long is sending its result
            self.disarm()
            return None
        if started != call.id:  # not started yet: the worker is starting up or reading it
            if self.kill_at is not None and limits.wall_time is not None:
                self.kill_at = now + limits.wall_time + grace
            if self.cpu_deadline is not None:
                self.cpu_at_start = cpu_seconds(self.pid)
            return None
        if wall and limits.wall_time is not None:
            deadline = started_at + limits.wall_time + grace
            if now < deadline:
                self.kill_at = deadline
                return None
            return WallTimeLimitExceeded(
                f"the call ran past its wall-time limit of {limits.wall_time:g} s and "
                f"did not stop within {grace:g} s; its worker was killed"
            )
        return CPUTimeLimitExceeded(
            f"the call used more than its CPU-time limit of {limits.cpu_time:g} s "
            "and did not stop; its worker was killed"
        )


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process ``pid`` used so far; 0 if it cannot be read."""
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


def death_error(
    pid: int, code: int | None, fn: Callable[..., Any], limits: Limits | None = None
) -> WorkerDiedError:
    """The error of a call whose worker ``pid`` ended (exit status ``code``) before it returned.

    With the call's ``limits``, the message says when its memory limit was probably the cause.
    """
    what = function_label(fn)
    memory = memory_hint(limits)
    if code is not None and code < 0:
        name = _signal_name(-code)
        return WorkerDiedError(
            f"The worker process (pid {pid}) running {what} was killed by "
            f"{name}.{_HINTS.get(name, '')}{memory}",
            pid=pid,
            signal=name,
        )
    return WorkerDiedError(
        f"The worker process (pid {pid}) running {what} exited with code {code} "
        "before the call returned (os._exit(), sys.exit() from a thread, or native code "
        f"ending the process).{memory}",
        pid=pid,
        exitcode=code,
    )
