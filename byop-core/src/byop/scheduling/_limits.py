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

import ctypes
import math
import numbers
import os
import re
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from attrs import frozen


class MemoryLimitExceeded(MemoryError):  # noqa: N818
    """A call tried to use more memory than its ``memory_limit``."""


class CPUTimeLimitExceeded(TimeoutError):  # noqa: N818
    """A call used more CPU time than its ``cpu_time_limit``."""


class WallTimeLimitExceeded(TimeoutError):  # noqa: N818
    """A call ran longer than its ``wall_time_limit``."""


_UNITS = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "M": 1000**2,
    "MB": 1000**2,
    "G": 1000**3,
    "GB": 1000**3,
    "T": 1000**4,
    "TB": 1000**4,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
}
_MEMORY = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[a-zA-Z]*)\s*$")


MAX_SECONDS = 1e9
"""The largest time limit, about 31 years: larger ones overflow the kernel's timers."""

MAX_MEMORY = 2**60
"""The largest memory limit in bytes (an exbibyte)."""


def parse_memory(value: int | float | str) -> int:
    """Bytes from a number or a string such as ``"512MB"``, ``"2GiB"`` or ``"100k"``.

    Raises:
        TypeError: ``value`` is neither a number nor a string.
        ValueError: It is not a positive amount (NaN, zero, negative, an unknown unit), or is
            larger than `MAX_MEMORY`.

    Example:
        ```python
        from byop.scheduling import parse_memory

        assert parse_memory("512MB") == 512_000_000
        assert parse_memory("1GiB") == 2**30
        ```
    """
    number = _number(value)
    if number is None and not isinstance(value, str):
        raise TypeError(
            f"memory_limit must be bytes (a number) or a string such as '512MB', got "
            f"{type(value).__name__} {value!r}."
        )
    if number is not None:
        if math.isnan(number) or number == -math.inf:
            raise ValueError(f"memory_limit must be a positive number of bytes, got {value!r}.")
        if number > MAX_MEMORY:
            raise ValueError(
                f"memory_limit must be at most 2**60 bytes, got {value!r}; pass None for no limit."
            )
        n = int(number)
    else:
        assert isinstance(value, str)
        m = _MEMORY.match(value)
        unit = m.group("unit").upper() if m else ""
        if m is None or unit not in _UNITS:
            raise ValueError(
                f"Cannot read memory_limit {value!r}: write bytes as an int, or a number with "
                "a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (of 1024)."
            )
        n = int(float(m.group("n")) * _UNITS[unit])
    if n <= 0:
        raise ValueError(f"memory_limit must be positive, got {value!r}.")
    if n > MAX_MEMORY:
        raise ValueError(
            f"memory_limit must be at most 2**60 bytes, got {value!r}; pass None for no limit."
        )
    return n


def _number(value: object) -> float | None:
    """``value`` as a plain number (numpy's too), or ``None`` when it is no number (or a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _seconds(name: str, value: object) -> float | None:
    if value is None:
        return None
    seconds = _number(value)
    if seconds is None:
        raise TypeError(
            f"{name} must be a positive number of seconds, got {type(value).__name__} {value!r}."
        )
    if seconds == math.inf:
        return None  # no limit
    if not seconds > 0:  # NaN too
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}.")
    if seconds > MAX_SECONDS:
        raise ValueError(
            f"{name} must be at most {MAX_SECONDS:g} seconds, got {value!r}; pass None (or "
            "float('inf')) for no limit."
        )
    return seconds


@frozen
class Limits:
    """The limits of one task's calls. ``None`` means no limit.

    Attributes:
        memory: Bytes the call may add to its worker's memory.
        cpu_time: Seconds of CPU time (user + system) the call may use.
        wall_time: Seconds the call may run.
    """

    memory: int | None = None
    cpu_time: float | None = None
    wall_time: float | None = None

    @classmethod
    def of(
        cls,
        memory_limit: int | float | str | None = None,
        cpu_time_limit: float | None = None,
        wall_time_limit: float | None = None,
    ) -> Limits | None:
        """Validated limits, or ``None`` when none is set.

        ``None`` and ``float("inf")`` mean no limit.

        Raises:
            TypeError: A limit is not a number (nor, for memory, a string such as ``"1GB"``).
            ValueError: A limit is not positive, is NaN, or is too large to enforce.
        """
        unlimited = _number(memory_limit) == math.inf
        memory = None if memory_limit is None or unlimited else parse_memory(memory_limit)
        cpu = _seconds("cpu_time_limit", cpu_time_limit)
        wall = _seconds("wall_time_limit", wall_time_limit)
        if memory is None and cpu is None and wall is None:
            return None
        return cls(memory, cpu, wall)


# ---------------------------------------------------------------------- process state
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


_statm: list[int] = [-1, -1]  # [pid, fd]: kept open, since opening /proc costs ten times more


def _read_statm() -> list[bytes]:
    pid = os.getpid()
    if _statm[0] != pid:  # first use, or a forked child holding its parent's file
        _statm[:] = [pid, os.open(f"/proc/{pid}/statm", os.O_RDONLY | os.O_CLOEXEC)]
    return os.pread(_statm[1], 256, 0).split()


def data_segment() -> int:
    """Bytes of this process's data segment (heap and private anonymous mappings)."""
    return int(_read_statm()[5]) * _PAGE


def resident_memory() -> int:
    """Bytes of this process's resident memory."""
    return int(_read_statm()[1]) * _PAGE


# ---------------------------------------------------------------------- main-thread mode
class _Kernel:
    """Limits enforced by timers, signals and rlimits, for a call in a process's main thread."""

    __slots__ = ("_limits", "_old_alarm", "_old_data", "_old_prof", "memory_ceiling")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._old_alarm: Any = None
        self._old_prof: Any = None
        self._old_data: tuple[int, int] | None = None
        self.memory_ceiling: int | None = None

    def __enter__(self) -> None:
        limits = self._limits
        if limits.memory is not None:
            self._old_data = resource.getrlimit(resource.RLIMIT_DATA)
            ceiling = data_segment() + limits.memory
            hard = self._old_data[1]
            if hard != resource.RLIM_INFINITY:
                ceiling = min(ceiling, hard)
            resource.setrlimit(resource.RLIMIT_DATA, (ceiling, hard))
            self.memory_ceiling = ceiling
        if limits.wall_time is not None:
            self._old_alarm = signal.signal(signal.SIGALRM, _raise_wall)
            signal.setitimer(signal.ITIMER_REAL, limits.wall_time)
        if limits.cpu_time is not None:
            self._old_prof = signal.signal(signal.SIGPROF, _raise_cpu)
            signal.setitimer(signal.ITIMER_PROF, limits.cpu_time)

    def __exit__(self, *exc: object) -> None:
        limits = self._limits
        if limits.wall_time is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_alarm)
        if limits.cpu_time is not None:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, self._old_prof)
        if self._old_data is not None:
            resource.setrlimit(resource.RLIMIT_DATA, self._old_data)


_wall_limit: list[float] = [0.0]
_cpu_limit: list[float] = [0.0]


def _raise_wall(signum: int, frame: FrameType | None) -> None:
    raise WallTimeLimitExceeded(f"the call ran past its wall-time limit of {_wall_limit[0]:g} s")


def _raise_cpu(signum: int, frame: FrameType | None) -> None:
    raise CPUTimeLimitExceeded(f"the call used more than its CPU-time limit of {_cpu_limit[0]:g} s")


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


def human_bytes(n: int) -> str:
    """``n`` bytes, readably: ``512 MB``."""
    for unit, size in (("GB", 1000**3), ("MB", 1000**2), ("KB", 1000)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def memory_hint(limits: Limits | None) -> str:
    """Why a worker may have died of its call's memory limit, when the call had one."""
    if limits is None or limits.memory is None:
        return ""
    return (
        f" The call ran under a memory limit of {human_bytes(limits.memory)}, which was "
        "probably too small: native code that cannot allocate memory may end its process "
        "instead of raising MemoryError (OpenBLAS, under numpy, does), and importing a large "
        "library can need more than the limit before the trial even starts. Raise memory_limit."
    )


def enforcer(limits: Limits) -> _Kernel | _Watched:
    """The context manager that enforces ``limits`` on the code it wraps, here."""
    if threading.current_thread() is threading.main_thread() and sys.platform == "linux":
        _wall_limit[0] = limits.wall_time or 0.0
        _cpu_limit[0] = limits.cpu_time or 0.0
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
