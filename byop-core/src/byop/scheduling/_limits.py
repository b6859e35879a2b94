"""Per-call limits on memory, CPU time and wall time, enforced where the call runs.

Two ways of enforcing, chosen by where the call runs:

- **In the main thread of a process** (byop's process workers, the sequential back end): the
  kernel does the watching. Wall time is an ``ITIMER_REAL`` timer (``SIGALRM``), CPU time an
  ``ITIMER_PROF`` timer (``SIGPROF``, user + system time of the process), and memory a
  ``RLIMIT_DATA`` soft limit, so an allocation past it fails with ``MemoryError``. The handlers
  raise `WallTimeLimitExceeded` / `CPUTimeLimitExceeded` in the call; a call that never returns
  to Python (blocked in C code, or catching the exception) is killed by the process back end
  from outside.
- **In any other thread** (the thread back end, a Dask or Ray worker's task thread): a watchdog
  thread polls the call's thread CPU clock, the wall clock and the process's memory, and raises
  the limit's exception in the call's thread at its next Python instruction.

``memory_limit`` bounds what the call may add to its worker's memory while it runs: the data
segment (heap and private anonymous mappings) may grow by at most that many bytes. The worker's
own footprint (the interpreter, imported libraries, data loaded before) does not count against
the trial.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, ClassVar

from byop.scheduling._limit_spec import (
    CPUTimeLimitExceeded,
    Limits,
    MemoryLimitExceeded,
    WallTimeLimitExceeded,
    human_bytes,
)

# ---------------------------------------------------------------------- process state
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


_statm: list[int] = [-1]  # the file, kept open: opening /proc costs ten times more than reading


def _read_statm() -> list[bytes]:
    if _statm[0] < 0:
        _statm[0] = os.open(f"/proc/{os.getpid()}/statm", os.O_RDONLY | os.O_CLOEXEC)
    return os.pread(_statm[0], 256, 0).split()


def _forget_statm() -> None:
    """In a forked child: the file open is the parent's (closed, the child opens its own)."""
    if _statm[0] >= 0:
        with contextlib.suppress(OSError):
            os.close(_statm[0])
        _statm[0] = -1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_statm)


def data_segment() -> int:
    """Bytes of this process's data segment (heap and private anonymous mappings)."""
    return int(_read_statm()[5]) * _PAGE


def resident_memory() -> int:
    """Bytes of this process's resident memory."""
    return int(_read_statm()[1]) * _PAGE


# ---------------------------------------------------------------------- main-thread mode
try:  # the C functions under `signal.signal`, without its enum conversions (ten times faster)
    import _signal as _raw_signal  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - not CPython
    _raw_signal = signal


class _State:
    """This process's limit state: which timers are armed, and what to restore."""

    resident = False
    """A byop worker process: the handlers stay installed between calls."""
    wall_armed = False
    cpu_armed = False
    wall_limit = 0.0
    cpu_limit = 0.0
    data_limit: tuple[int, int] | None = None
    """A worker's own ``RLIMIT_DATA``, read once."""
    timers_left: ClassVar[list[int]] = []
    """Timers of the last call still running (their handlers ignore them): see `settle`."""
    data_left: tuple[int, int] | None = None
    """The ``RLIMIT_DATA`` to restore once the last call's outcome is sent: see `settle`."""
    depth = 0
    """How many limited calls are running in this thread (a call may run a scheduler)."""


def keep_handlers_installed() -> None:
    """For byop's worker processes: the limits' signal handlers stay installed between calls.

    Installing and restoring a handler around each call costs more than the rest of a small
    call's limits; between calls the handlers ignore their signals. A call that replaces a
    handler gets byop's back at the next limited call.
    """
    _State.resident = True


def settle() -> bool:
    """Stop the timers the last limited call left running, and lift its memory limit.

    A worker does it after sending the call's outcome, so that it is not on the way of the
    result (the timers' handlers ignore them already); or when its own work between calls runs
    out of memory under the limit. Returns whether there was anything to do.
    """
    timers = _State.timers_left
    data = _State.data_left
    if not timers and data is None:
        return False
    while timers:
        signal.setitimer(timers.pop(), 0)
    if data is not None:
        _State.data_left = None
        resource.setrlimit(resource.RLIMIT_DATA, data)
    return True


class _Kernel:
    """Limits enforced by timers, signals and rlimits, for a call in a process's main thread."""

    __slots__ = ("_limits", "_old_alarm", "_old_data", "_old_prof")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._old_alarm: Any = None
        self._old_prof: Any = None
        self._old_data: tuple[int, int] | None = None

    def __enter__(self) -> None:
        limits = self._limits
        _State.depth += 1
        resident = _State.resident and _State.depth == 1  # a worker's own call, not nested
        if limits.memory is not None:
            old = _State.data_limit if resident else None
            if old is None:
                old = resource.getrlimit(resource.RLIMIT_DATA)
                if resident:
                    _State.data_limit = old
            ceiling = data_segment() + limits.memory
            hard = old[1]
            if hard != resource.RLIM_INFINITY:
                ceiling = min(ceiling, hard)
            resource.setrlimit(resource.RLIMIT_DATA, (ceiling, hard))
            self._old_data = old
        if limits.wall_time is not None:
            _State.wall_limit = limits.wall_time
            self._old_alarm = _install(signal.SIGALRM, _raise_wall, resident)
            _State.wall_armed = True
            signal.setitimer(signal.ITIMER_REAL, limits.wall_time)
        if limits.cpu_time is not None:
            _State.cpu_limit = limits.cpu_time
            self._old_prof = _install(signal.SIGPROF, _raise_cpu, resident)
            _State.cpu_armed = True
            signal.setitimer(signal.ITIMER_PROF, limits.cpu_time)

    def __exit__(self, *exc: object) -> None:
        limits = self._limits
        resident = _State.resident and _State.depth == 1
        _State.depth -= 1
        if limits.wall_time is not None:
            _State.wall_armed = False
            if resident:
                _State.timers_left.append(signal.ITIMER_REAL)
            else:
                signal.setitimer(signal.ITIMER_REAL, 0)
                _raw_signal.signal(signal.SIGALRM, self._old_alarm)
        if limits.cpu_time is not None:
            _State.cpu_armed = False
            if resident:
                _State.timers_left.append(signal.ITIMER_PROF)
            else:
                signal.setitimer(signal.ITIMER_PROF, 0)
                _raw_signal.signal(signal.SIGPROF, self._old_prof)
        if self._old_data is not None:
            if resident and exc[0] is None:
                _State.data_left = self._old_data  # lifted by `settle`
            else:
                resource.setrlimit(resource.RLIMIT_DATA, self._old_data)


def _install(signum: int, handler: Any, resident: bool) -> Any:
    """Install ``handler`` for ``signum``; the handler it replaced (``None`` if kept)."""
    if resident:
        if _raw_signal.getsignal(signum) is not handler:
            _raw_signal.signal(signum, handler)
        return None
    return _raw_signal.signal(signum, handler)


def _raise_wall(signum: int, frame: FrameType | None) -> None:
    if _State.wall_armed:
        raise WallTimeLimitExceeded(
            f"the call ran past its wall-time limit of {_State.wall_limit:g} s"
        )


def _raise_cpu(signum: int, frame: FrameType | None) -> None:
    if _State.cpu_armed:
        raise CPUTimeLimitExceeded(
            f"the call used more than its CPU-time limit of {_State.cpu_limit:g} s"
        )


# ---------------------------------------------------------------------- thread mode
def _set_async_exc(thread_id: int, exc_type: type[BaseException] | None) -> None:
    """Raise ``exc_type`` in the thread at its next Python instruction (``None`` clears)."""
    arg = None if exc_type is None else ctypes.py_object(exc_type)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), arg)


class _Watch:
    __slots__ = ("clock", "cpu_end", "exception", "fired", "memory_end", "thread_id", "wall_end")

    def __init__(self, thread_id: int, limits: Limits) -> None:
        now = time.monotonic()
        self.thread_id = thread_id
        self.wall_end = None if limits.wall_time is None else now + limits.wall_time
        self.clock: int | None = None
        self.cpu_end: float | None = None
        if limits.cpu_time is not None:
            self.clock = time.pthread_getcpuclockid(thread_id)
            self.cpu_end = time.clock_gettime(self.clock) + limits.cpu_time
        self.memory_end = None if limits.memory is None else resident_memory() + limits.memory
        self.exception: BaseException | None = None
        self.fired = False


class _Watchdog:
    """One daemon thread that raises limit exceptions in the threads it watches."""

    PERIOD = 0.02

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[int, _Watch] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._lock:
            self._watches[watch.thread_id] = watch
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="byop-limits", daemon=True)
                self._thread.start()
        self._wake.set()

    def remove(self, watch: _Watch) -> bool:
        """Stop watching; whether the watch fired (its exception may still be pending)."""
        with self._lock:
            if self._watches.get(watch.thread_id) is watch:
                del self._watches[watch.thread_id]
            return watch.fired

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.PERIOD)
            self._wake.clear()
            with self._lock:
                self._check()

    def _check(self) -> None:
        if not self._watches:
            return
        now = time.monotonic()
        rss = None
        for w in self._watches.values():
            if w.fired:
                continue
            exc: BaseException | None = None
            if w.wall_end is not None and now >= w.wall_end:
                exc = WallTimeLimitExceeded("the call ran past its wall-time limit")
            elif w.clock is not None and w.cpu_end is not None:
                try:
                    if time.clock_gettime(w.clock) >= w.cpu_end:
                        exc = CPUTimeLimitExceeded("the call used more than its CPU-time limit")
                except OSError:
                    continue  # the thread is gone
            if exc is None and w.memory_end is not None:
                rss = resident_memory() if rss is None else rss
                if rss >= w.memory_end:
                    exc = MemoryLimitExceeded("the call used more than its memory limit")
            if exc is not None:
                w.fired = True
                w.exception = exc
                _set_async_exc(w.thread_id, type(exc))


_watchdog = _Watchdog()


class _Watched:
    """Limits enforced by the watchdog thread, for a call in any thread."""

    __slots__ = ("_limits", "_watch")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._watch: _Watch | None = None

    def __enter__(self) -> None:
        self._watch = _Watch(threading.get_ident(), self._limits)
        _watchdog.add(self._watch)

    def __exit__(self, *exc: object) -> None:
        if self._watch is not None and _watchdog.remove(self._watch) and exc[0] is None:
            # The call finished as the limit fired: clear the exception still pending.
            _set_async_exc(self._watch.thread_id, None)


# ---------------------------------------------------------------------- calling
def _as_breach(limits: Limits, exc: BaseException) -> BaseException:
    """The limit's own exception, with a message naming the limit."""
    if isinstance(exc, MemoryLimitExceeded | CPUTimeLimitExceeded | WallTimeLimitExceeded):
        if isinstance(exc, WallTimeLimitExceeded) and limits.wall_time is not None:
            return WallTimeLimitExceeded(
                f"the call ran past its wall-time limit of {limits.wall_time:g} s"
            )
        if isinstance(exc, CPUTimeLimitExceeded) and limits.cpu_time is not None:
            return CPUTimeLimitExceeded(
                f"the call used more than its CPU-time limit of {limits.cpu_time:g} s"
            )
        if isinstance(exc, MemoryLimitExceeded) and limits.memory is not None:
            return MemoryLimitExceeded(
                f"the call tried to use more than its memory limit of {human_bytes(limits.memory)}"
            )
        return exc
    if isinstance(exc, MemoryError) and limits.memory is not None:
        return MemoryLimitExceeded(
            f"the call tried to use more than its memory limit of {human_bytes(limits.memory)} "
            f"(MemoryError: {exc})"
        )
    return exc


def as_limit_exception(limits: Limits | None, exc: BaseException) -> BaseException:
    """``exc``, or the limit exception it stands for (a ``MemoryError`` under a memory limit)."""
    if limits is None:
        return exc
    out = _as_breach(limits, exc)
    if out is not exc:
        out.__cause__ = exc
        out.__traceback__ = exc.__traceback__
    return out


_LINUX = sys.platform == "linux"


def enforcer(limits: Limits) -> _Kernel | _Watched:
    """The context manager that enforces ``limits`` on the code it wraps, here."""
    if _LINUX and threading.get_ident() == threading.main_thread().ident:
        return _Kernel(limits)
    return _Watched(limits)


def call_with_limits(
    limits: Limits | None, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Call ``fn(*args, **kwargs)`` under ``limits``; a breach raises the limit's exception."""
    if limits is None:
        return fn(*args, **kwargs)
    try:
        with enforcer(limits):
            return fn(*args, **kwargs)
    except (MemoryError, TimeoutError) as e:
        converted = as_limit_exception(limits, e)
        if converted is e:
            raise
        raise converted from e
