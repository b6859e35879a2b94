"""Time intervals measured around a trial, on the wall clock or the process's CPU clock."""

from __future__ import annotations

import time
from enum import StrEnum

from attrs import frozen


class TimeKind(StrEnum):
    """Which clock a `TimeInterval` was read from."""

    WALL = "wall"
    """The wall clock: ``start`` and ``end`` are seconds since the epoch."""

    CPU = "cpu"
    """The process's CPU clock (user + system): ``start`` and ``end`` are CPU seconds."""


@frozen
class TimeInterval:
    """A measured interval.

    Attributes:
        start: When it began, on the clock named by ``kind``.
        end: When it ended, on the same clock.
        duration: ``end - start``, measured with the best clock available
            (a monotonic counter for wall time).
        kind: The clock: `TimeKind.WALL` or `TimeKind.CPU`.
    """

    start: float
    end: float
    duration: float
    kind: TimeKind = TimeKind.WALL

    @classmethod
    def instant(cls, kind: TimeKind = TimeKind.WALL) -> TimeInterval:
        """An interval of no duration, now."""
        now = time.time() if kind is TimeKind.WALL else time.process_time()
        return cls(start=now, end=now, duration=0.0, kind=kind)


class Timer:
    """Reads the wall and CPU clocks at a start, and gives both intervals at the end."""

    __slots__ = ("_cpu", "_perf", "_wall")

    def __init__(self) -> None:
        self._wall = time.time()
        self._perf = time.perf_counter()
        self._cpu = time.process_time()

    def stop(self) -> tuple[TimeInterval, TimeInterval]:
        """The wall and the CPU interval from the start until now."""
        perf = time.perf_counter()
        cpu = time.process_time()
        wall = self._wall + (perf - self._perf)
        return (
            TimeInterval(self._wall, wall, perf - self._perf, TimeKind.WALL),
            TimeInterval(self._cpu, cpu, cpu - self._cpu, TimeKind.CPU),
        )
