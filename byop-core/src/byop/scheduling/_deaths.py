"""How the main process watches a worker process from outside: its CPU time, and its death."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

from byop.scheduling._errors import WorkerDiedError
from byop.scheduling._names import function_label

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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


def death_error(pid: int, code: int | None, fn: Callable[..., Any]) -> WorkerDiedError:
    """The error of a call whose worker ``pid`` ended (exit status ``code``) before it returned."""
    what = function_label(fn)
    if code is not None and code < 0:
        name = _signal_name(-code)
        return WorkerDiedError(
            f"The worker process (pid {pid}) running {what} was killed by "
            f"{name}.{_HINTS.get(name, '')}",
            pid=pid,
            signal=name,
        )
    return WorkerDiedError(
        f"The worker process (pid {pid}) running {what} exited with code {code} "
        "before the call returned (os._exit(), sys.exit() from a thread, or native code "
        "ending the process).",
        pid=pid,
        exitcode=code,
    )
