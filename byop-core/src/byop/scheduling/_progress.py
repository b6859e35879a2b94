"""Shared memory where a worker says which call it runs: the main process's hard bounds read it."""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import time

_PROGRESS = struct.Struct("qdq")


class Progress:
    """Shared memory where a worker records the call it started (and when) and the last it ended.

    The main process reads it only to decide whether to kill a worker for a time limit: a limit
    counts from when the worker started the call (not from when it was sent: a worker may still
    be starting up), and ends when the call returns, before its outcome is pickled and sent. So
    neither a slow start nor the transfer of a large result counts against a trial.

    Args:
        fd: The worker's side: the descriptor it was given. By default, a new area (the main
            process's side), whose ``fd`` is handed to the worker.
    """

    __slots__ = ("_map", "fd")

    def __init__(self, fd: int | None = None) -> None:
        if fd is None:
            fd = _anonymous_file()
            os.ftruncate(fd, _PROGRESS.size)
            self._map = mmap.mmap(fd, _PROGRESS.size)
            _PROGRESS.pack_into(self._map, 0, -1, 0.0, -1)
        else:
            self._map = mmap.mmap(fd, _PROGRESS.size)
        self.fd = fd

    def started(self, call_id: int) -> None:
        """Record that the call ``call_id`` starts now (on the system's monotonic clock)."""
        _STARTED.pack_into(self._map, 0, call_id, time.monotonic())

    def ended(self, call_id: int) -> None:
        """Record that the call ``call_id`` returned."""
        _ENDED.pack_into(self._map, _ENDED_AT, call_id)

    def read(self) -> tuple[int, float, int]:
        """The call started last, when (``time.monotonic()``), and the call ended last."""
        started, at, ended = _PROGRESS.unpack_from(self._map, 0)
        return started, at, ended

    def close_fd(self) -> None:
        """Close the descriptor (the mapping stays)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1

    def close(self) -> None:
        """Close the descriptor and the mapping."""
        self.close_fd()
        with contextlib.suppress(BufferError, ValueError):
            self._map.close()


_STARTED = struct.Struct("qd")
_ENDED = struct.Struct("q")
_ENDED_AT = _STARTED.size


def _anonymous_file() -> int:
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        with contextlib.suppress(OSError):
            fd: int = memfd_create("byop-worker", os.MFD_CLOEXEC)
            return fd
    import tempfile

    with tempfile.TemporaryFile() as f:
        return os.dup(f.fileno())
