"""Pickled messages over a pair of pipes, with one system call per read or write.

A message is a header, the pickle, and the pickle's out-of-band buffers: large contiguous
buffers (numpy arrays and the like, pickle protocol 5) travel as themselves, never copied into
the pickle. The header is the pickle's length and the number of buffers (``!QI``), then each
buffer's length (``!Q``).

Reading is linear in the size of a message however it arrives: once a header is in, the rest
of its message is read straight into buffers of the right sizes (``readv``), never by joining
chunks. A small message costs one ``write`` to send and, usually, one ``read`` to receive.

A worker's large buffers (8 MB or more in all) do not go through the pipe at all: the worker
copies them into a memory file (``memfd``) and sends its number in the header; the main
process maps that file (``/proc/<worker>/fd/<n>``), so a 100 MB result takes one copy and no
round trips through a pipe of 1 MB. Where the file cannot be opened, the main process asks for
the message again, through the pipe.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import struct
from typing import Any, TypeAlias

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
"""Buffers of at least this many bytes in all cross in a memory file, not through the pipe."""
_IN_PIPE = -1  # the buffers follow the pickle in the pipe
_RESEND = -2  # a request: send the last message again, all through the pipe
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
        peer: The process at the other end, whose memory files this end may map (0: none).
        share: Whether this end sends large buffers in memory files (a worker's end).

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
        "_shared",
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
        self._shared: tuple[int, list[int]] | None = None  # the message read's memory file
        self._sent: tuple[int, bytes, list[int]] | None = None  # the last file sent
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
        if self.share and sum(b.nbytes for b in buffers) >= _SHARE:
            fd = _memory_file(buffers)
            if fd >= 0:
                self.release()
                # The file is kept until the next message arrives (the buffers are not).
                self._sent = (fd, data, [b.nbytes for b in buffers])
                head = _HEAD.pack(len(data), len(buffers), fd) + table
                _write_all(wfd, [memoryview(head), memoryview(data)])
                return
        head = _HEAD.pack(len(data), len(buffers), _IN_PIPE) + table
        _write_all(wfd, [memoryview(head), memoryview(data), *buffers])

    def release(self) -> None:
        """Forget the memory file of the last message sent (the other end has it mapped)."""
        if self._sent is not None:
            with contextlib.suppress(OSError):
                os.close(self._sent[0])
            self._sent = None

    def _resend(self) -> None:
        """Send the last message again, buffers and all through the pipe."""
        if self._sent is None:
            return
        fd, data, sizes = self._sent
        buffers = _map(os.getpid(), fd, sizes) or []
        self.release()
        head = _HEAD.pack(len(data), len(sizes), _IN_PIPE)
        table = b"".join(_LENGTH.pack(size) for size in sizes)
        _write_all(self.wfd, [memoryview(head + table), memoryview(data), *buffers])

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
        return self._complete(parts)

    def _complete(self, parts: list[Buffer]) -> list[Message]:
        """The message whose parts were read; its buffers mapped if in a memory file."""
        shared = self._shared
        if shared is None:
            return [(parts[0], parts[1:])]
        self._shared = None
        fd, sizes = shared
        buffers = _map(self.peer, fd, sizes)
        if buffers is None:  # the file cannot be opened here: ask for it through the pipe
            _write_all(self.wfd, [memoryview(_HEAD.pack(0, 0, _RESEND))])
            return []
        mapped: list[Buffer] = [*buffers]
        return [(parts[0], mapped)]

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
                if where >= 0:  # the buffers are in the sender's memory file
                    self._shared = (where, sizes[1:])
                    sizes = [n]
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
                out.extend(self._complete(parts))
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

        A request to send the last message again is answered here, and the memory file of the
        last message sent is let go once another message arrives.
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
        """Close both pipes (and the memory file of the last message sent)."""
        self.release()
        for fd in (self.rfd, self.wfd):
            with contextlib.suppress(OSError):
                os.close(fd)


RESEND: Message = (b"", [])
"""What `Channel.read_ready` returns for a request to send the last message again."""


def _memory_file(buffers: list[memoryview]) -> int:
    """A memory file holding ``buffers`` one after the other, or -1 where there is none."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None:
        return -1
    try:
        fd: int = memfd_create("byop-message", os.MFD_CLOEXEC)
    except OSError:
        return -1
    try:
        os.ftruncate(fd, sum(b.nbytes for b in buffers))
        at = 0
        for buffer in buffers:
            view = buffer
            while view:
                written = os.pwrite(fd, view, at)
                at += written
                view = view[written:]
    except OSError:
        os.close(fd)
        return -1
    return fd


def _map(pid: int, fd: int, sizes: list[int]) -> list[memoryview] | None:
    """The buffers in process ``pid``'s memory file ``fd``, mapped here (copy on write)."""
    if pid <= 0:
        return None
    try:
        mine = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        region = mmap.mmap(
            mine, sum(sizes), flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE
        )
    except (OSError, ValueError):
        return None
    finally:
        os.close(mine)
    view = memoryview(region)
    out: list[memoryview] = []
    at = 0
    for size in sizes:
        out.append(view[at : at + size])
        at += size
    return out


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
