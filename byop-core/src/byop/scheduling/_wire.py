"""Pickled messages over a pair of pipes, with one system call per read or write.

A message is a header, the pickle, and the pickle's out-of-band buffers: large contiguous
buffers (numpy arrays and the like, pickle protocol 5) travel as themselves, never copied into
the pickle. The header is the pickle's length and the number of buffers (``!QI``), then each
buffer's length (``!Q``).

Reading is linear in the size of a message however it arrives: once a header is in, the rest
of its message is read straight into buffers of the right sizes (``readv``), never by joining
chunks. A small message costs one ``write`` to send and, usually, one ``read`` to receive.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import struct
import time
from typing import Any, TypeAlias

PROTOCOL = pickle.HIGHEST_PROTOCOL
"""The pickle protocol of every message between the main process and its workers."""

_HEAD = struct.Struct("!QI")
_HEAD_SIZE = _HEAD.size
_LENGTH = struct.Struct("!Q")
_CHUNK = 1 << 16
_OUT_OF_BAND = 1 << 16
"""Buffers at least this large travel out of band (as themselves, after the pickle)."""
_BIG_PIPE = 1 << 20
"""The pipe size asked for (``F_SETPIPE_SZ``) once a message larger than this is read."""
_IOV_MAX = 512
_HUGE = 1 << 22
"""Buffers at least this large are read into memory mapped with huge pages (where the kernel
has them): a hundred times fewer page faults to fill it."""

Buffer: TypeAlias = "bytearray | mmap.mmap"
_NO_BUFFERS: list[Buffer] = []  # shared, never changed

Message: TypeAlias = "tuple[bytes | Buffer, list[Buffer]]"
"""A message as read: the pickle and its out-of-band buffers."""


class Channel:
    """One end of a worker's two pipes: read from ``rfd``, write to ``wfd``.

    Attributes:
        reads: How many read system calls this end made (for tests and benchmarks).
    """

    __slots__ = ("_left", "_oob", "_parts", "_ready", "_rest", "_views", "reads", "rfd", "wfd")

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd = rfd
        self.wfd = wfd
        self._rest = b""  # the start of a header that did not fit in the last read
        self._parts: list[Buffer] = []  # the message being read, once its header is in
        self._views: list[memoryview] = []  # what of those parts is still to be read
        self._left = 0
        self._ready: list[Message] = []  # complete messages `recv` has not returned yet
        self._oob: list[memoryview] = []
        self.reads = 0

    # ---------------------------------------------------------------- writing
    def send(self, obj: Any) -> None:
        """Pickle ``obj`` and write it (blocking until the pipe takes all of it).

        Raises:
            PickleFailedError: ``obj`` cannot be pickled (nothing was written).
            OSError: Writing failed (the other side is gone).
        """
        oob = self._oob
        try:
            data = pickle.dumps(obj, PROTOCOL, buffer_callback=self._keep_in_band)
        except Exception as e:
            oob.clear()
            raise PickleFailedError(f"{type(e).__name__}: {e}") from e
        wfd = self.wfd
        if not oob:
            n = len(data)
            if n <= _CHUNK:
                message = _HEAD.pack(n, 0) + data
                written = os.write(wfd, message)
                if written < len(message):
                    _write_all(wfd, [memoryview(message)[written:]])
                return
            _write_all(wfd, [memoryview(_HEAD.pack(n, 0)), memoryview(data)])
            return
        buffers = list(oob)
        oob.clear()
        head = _HEAD.pack(len(data), len(buffers)) + b"".join(
            _LENGTH.pack(b.nbytes) for b in buffers
        )
        _write_all(wfd, [memoryview(head), memoryview(data), *buffers])

    def _keep_in_band(self, buffer: pickle.PickleBuffer) -> bool:
        try:
            raw = buffer.raw()
        except BufferError:  # not contiguous: pickled in band
            return True
        if raw.nbytes < _OUT_OF_BAND:
            return True
        self._oob.append(raw)
        return False

    # ---------------------------------------------------------------- reading
    def read_ready(self) -> list[Message] | None:
        """Read what the pipe has now (one read) and return the complete messages.

        Returns ``None`` at end of file (the other side is gone).
        """
        self.reads += 1
        if self._views:
            got = os.readv(self.rfd, self._views[:_IOV_MAX])
            if not got:
                return None
            return self._filled(got)
        chunk = os.read(self.rfd, _CHUNK)
        if self._rest:
            if not chunk:
                return None
            chunk = self._rest + chunk  # the start of a header: never a message's data
            self._rest = b""
        elif len(chunk) >= _HEAD_SIZE:
            n, k = _HEAD.unpack_from(chunk)
            if not k and len(chunk) == _HEAD_SIZE + n:  # one whole message: the common case
                return [(chunk[_HEAD_SIZE:], _NO_BUFFERS)]
        elif not chunk:
            return None
        return self._split(chunk)

    def _filled(self, got: int) -> list[Message]:
        """Account for ``got`` bytes read into the message being read."""
        self._left -= got
        if self._left:
            views = self._views
            while got:
                first = views[0]
                if got >= len(first):
                    got -= len(first)
                    del views[0]
                else:
                    views[0] = first[got:]
                    got = 0
            return []
        self._views = []
        parts = self._parts
        self._parts = []
        return [(parts[0], parts[1:])]

    def _split(self, buf: bytes) -> list[Message]:
        out: list[Message] = []
        start = 0
        size = len(buf)
        while size - start >= _HEAD_SIZE:
            n, k = _HEAD.unpack_from(buf, start)
            body = start + _HEAD_SIZE + 8 * k
            if body > size:
                break  # the buffers' lengths are not all in yet
            if not k:
                end = body + n
                if end <= size:
                    out.append((buf[body:end], _NO_BUFFERS))
                    start = end
                    continue
                sizes = [n]
            else:
                sizes = [n, *struct.unpack_from(f"!{k}Q", buf, start + _HEAD_SIZE)]
            # A message with buffers, or one that goes on beyond this read: read it into
            # buffers of its own.
            parts = [_buffer(s) for s in sizes]
            have = memoryview(buf)[body:]
            views: list[memoryview] = []
            for part in parts:
                view = memoryview(part)
                take = min(len(view), len(have))
                if take:
                    view[:take] = have[:take]
                    have = have[take:]
                if take < len(view):
                    views.append(view[take:])
            if not views:  # it was all here after all (a message with small buffers)
                out.append((parts[0], parts[1:]))
                start = size - len(have)
                continue
            self._parts = parts
            self._views = views
            self._left = sum(len(v) for v in views)
            if self._left > _BIG_PIPE:
                self._widen()
            return out
        if start < size:
            self._rest = buf[start:]
        return out

    def _widen(self) -> None:
        """Ask for a larger pipe, so that a large message takes fewer reads (Linux)."""
        import fcntl

        setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
        if setsize is not None:
            with contextlib.suppress(OSError):
                fcntl.fcntl(self.rfd, setsize, _BIG_PIPE)

    def recv(self) -> Message | None:
        """Block until one whole message arrives; ``None`` at end of file."""
        ready = self._ready
        while not ready:
            got = self.read_ready()
            if got is None:
                return None
            if len(got) == 1:
                return got[0]
            ready.extend(got)
        return ready.pop(0)

    def close(self) -> None:
        """Close both pipes."""
        for fd in (self.rfd, self.wfd):
            with contextlib.suppress(OSError):
                os.close(fd)


def _buffer(size: int) -> Buffer:
    """A writable buffer of ``size`` bytes to read a message's part into."""
    if size < _HUGE:
        return bytearray(size)
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    buffer = mmap.mmap(-1, size, flags=flags) if flags else mmap.mmap(-1, size)
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is not None:
        with contextlib.suppress(OSError):
            buffer.madvise(advice)
    return buffer


def load(message: Message) -> Any:
    """The object a message carries."""
    data, buffers = message
    if buffers:
        return pickle.loads(data, buffers=buffers)
    return pickle.loads(data)


def _write_all(fd: int, views: list[memoryview]) -> None:
    """Write every byte of ``views``, in order, in as few system calls as the pipe allows."""
    i = 0
    while i < len(views):
        written = os.writev(fd, views[i : i + _IOV_MAX])
        while written:
            first = views[i]
            if written >= len(first):
                written -= len(first)
                i += 1
            else:
                views[i] = first[written:]
                written = 0
        while i < len(views) and not len(views[i]):
            i += 1


class PickleFailedError(Exception):
    """What `Channel.send` raises when its object cannot be pickled (the cause is chained)."""


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
