"""Pickled messages over a pair of pipes, with one system call per read or write.

A message is a header, the pickle, and the pickle's out-of-band buffers: large contiguous
buffers (numpy arrays and the like, pickle protocol 5) travel as themselves, never copied into
the pickle. The header is the pickle's length, the number of buffers and where they are
(``!QIi``: -1 in the pipe, after the pickle; 1 in the sender's memory; -2 is a request to send
the last message again), then each buffer's length (``!Q``), and for a message left in the
sender's memory the addresses of the pickle and of each buffer.

Reading is linear in the size of a message however it arrives: once a header is in, the rest
of its message is read straight into buffers of the right sizes (``readv``), never by joining
chunks. A small message costs one ``write`` to send and, usually, one ``read`` to receive.

A worker's large messages (8 MB or more, pickle and buffers) do not go through the pipe at
all: the worker sends where they are in its memory and keeps them until its next message, and
the main process copies them straight from there (`byop.scheduling._remote`). A 100 MB result
then takes one copy, and no hundred round trips through a pipe of 1 MB (each a scheduling
delay on a busy machine). Where that read is not allowed, the main process asks for the
message again, and it (and every later one) comes through the pipe.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import struct
from typing import Any, TypeAlias

from byop.scheduling import _remote as remote

PROTOCOL = pickle.HIGHEST_PROTOCOL
"""The pickle protocol of every message between the main process and its workers."""

_HEAD = struct.Struct("!QIi")  # the pickle's length, the number of buffers, where they are
_HEAD_SIZE = _HEAD.size
_LENGTH = struct.Struct("!Q")
_CHUNK = 1 << 16
_OUT_OF_BAND = 1 << 16
"""Buffers at least this large travel out of band (as themselves, after the pickle)."""
_BIG_PIPE = 1 << 20
"""The pipe size asked for (``F_SETPIPE_SZ``) once a message larger than this is read."""
_IOV_MAX = 512
_SHARE = 1 << 23
"""Buffers of at least this many bytes in all are read from the sender's memory."""
_IN_PIPE = -1  # the buffers follow the pickle in the pipe
_RESEND = -2  # a request: send the last message again, all through the pipe
_IN_MEMORY = 1  # the pickle and its buffers stay in the sender's memory, at these addresses
_HUGE = 1 << 22
"""Buffers at least this large are read into memory mapped with huge pages (where the kernel
has them): a hundred times fewer page faults to fill it."""

Buffer: TypeAlias = "bytearray | mmap.mmap | memoryview"
_NO_BUFFERS: list[Buffer] = []  # shared, never changed

Message: TypeAlias = "tuple[bytes | Buffer, list[Buffer]]"
"""A message as read: the pickle and its out-of-band buffers."""


class Channel:
    """One end of a worker's two pipes: read from ``rfd``, write to ``wfd``.

    Args:
        rfd: The pipe to read from.
        wfd: The pipe to write to.
        peer: The process at the other end, whose memory this end may read (0: none).
        share: Whether this end leaves large buffers in its memory for the other end to read
            (a worker's end).

    Attributes:
        reads: How many read system calls this end made (for tests and benchmarks).
    """

    __slots__ = (
        "_left",
        "_oob",
        "_parts",
        "_ready",
        "_rest",
        "_sent",
        "_views",
        "peer",
        "reads",
        "rfd",
        "share",
        "wfd",
    )

    def __init__(self, rfd: int, wfd: int, *, peer: int = 0, share: bool = False) -> None:
        self.rfd = rfd
        self.wfd = wfd
        self.peer = peer
        self.share = share
        self._sent: tuple[bytes, list[memoryview], list[Any]] | None = None  # kept for the peer
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
        n = len(data)
        if (
            self.share
            and (n >= _SHARE or (oob and n + sum(b.nbytes for b in oob) >= _SHARE))
            and self._leave(data)
        ):
            return
        if not oob:
            if n <= _CHUNK:
                message = _HEAD.pack(n, 0, _IN_PIPE) + data
                written = os.write(wfd, message)
                if written < len(message):
                    _write_all(wfd, [memoryview(message)[written:]])
                return
            _write_all(wfd, [memoryview(_HEAD.pack(n, 0, _IN_PIPE)), memoryview(data)])
            return
        buffers = list(oob)
        oob.clear()
        table = b"".join(_LENGTH.pack(b.nbytes) for b in buffers)
        head = _HEAD.pack(len(data), len(buffers), _IN_PIPE) + table
        _write_all(wfd, [memoryview(head), memoryview(data), *buffers])

    def _leave(self, data: bytes) -> bool:
        """Send only where the pickle and its buffers are, for the other end to read them."""
        if not remote.AVAILABLE:
            return False
        buffers = self._oob
        found = [remote.address_of(b) for b in buffers]
        if any(f is None for f in found):
            return False
        self.release()
        kept = list(buffers)
        buffers.clear()
        self._sent = (data, kept, found)  # kept until the next message arrives
        addresses = [remote.address_of_bytes(data), *(f[0] for f in found if f is not None)]
        head = (
            _HEAD.pack(len(data), len(kept), _IN_MEMORY)
            + b"".join(_LENGTH.pack(b.nbytes) for b in kept)
            + b"".join(_LENGTH.pack(a) for a in addresses)
        )
        _write_all(self.wfd, [memoryview(head)])
        return True

    def release(self) -> None:
        """Let go of the buffers of the last message sent (the other end has read them)."""
        self._sent = None

    def _resend(self) -> None:
        """Send the last message again, all through the pipe.

        The other end cannot read this one's memory: later messages go through the pipe too.
        """
        self.share = False
        if self._sent is None:
            return
        data, buffers, _ = self._sent
        head = _HEAD.pack(len(data), len(buffers), _IN_PIPE)
        table = b"".join(_LENGTH.pack(b.nbytes) for b in buffers)
        _write_all(self.wfd, [memoryview(head + table), memoryview(data), *buffers])
        self.release()

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
            n, k, where = _HEAD.unpack_from(chunk)
            if not k and where == _IN_PIPE and len(chunk) == _HEAD_SIZE + n:
                return [(chunk[_HEAD_SIZE:], _NO_BUFFERS)]  # one whole message: most of them
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

    def _fetch(self, addresses: list[int], sizes: list[int]) -> list[Message]:
        """The message left in the sender's memory, read from there."""
        parts = remote.read_from(self.peer, addresses, sizes, _buffer)
        if parts is None:  # not allowed here: ask for the message through the pipe
            _write_all(self.wfd, [memoryview(_HEAD.pack(0, 0, _RESEND))])
            return []
        return [(parts[0], parts[1:])]

    def _split(self, buf: bytes) -> list[Message]:
        out: list[Message] = []
        start = 0
        size = len(buf)
        while size - start >= _HEAD_SIZE:
            n, k, where = _HEAD.unpack_from(buf, start)
            if where == _RESEND:
                out.append(RESEND)
                start += _HEAD_SIZE
                continue
            in_memory = where == _IN_MEMORY
            body = start + _HEAD_SIZE + 8 * k + (8 * (k + 1) if in_memory else 0)
            if body > size:
                break  # the buffers' lengths are not all in yet
            if in_memory:
                sizes = [n, *struct.unpack_from(f"!{k}Q", buf, start + _HEAD_SIZE)]
                at = start + _HEAD_SIZE + 8 * k
                out.extend(self._fetch([*struct.unpack_from(f"!{k + 1}Q", buf, at)], sizes))
                start = body
                continue
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
            if not views:  # it was all here after all
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
        """Block until one whole message arrives; ``None`` at end of file.

        A request to send the last message again is answered here, and the buffers of the
        last message sent are let go once another message arrives.
        """
        ready = self._ready
        while True:
            while not ready:
                got = self.read_ready()
                if got is None:
                    return None
                ready.extend(got)
            message = ready.pop(0)
            if message is RESEND:
                self._resend()
                continue
            self.release()
            return message

    def close(self) -> None:
        """Close both pipes."""
        self.release()
        for fd in (self.rfd, self.wfd):
            with contextlib.suppress(OSError):
                os.close(fd)


RESEND: Message = (b"", [])
"""What `Channel.read_ready` returns for a request to send the last message again."""


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
