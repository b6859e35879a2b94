"""What a call's limits are: their values, how they are written, and the errors of a breach.

How they are enforced is `byop.scheduling._limits`'s job.
"""

from __future__ import annotations

import math
import numbers
import re

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
