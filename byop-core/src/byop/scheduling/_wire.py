"""Length-prefixed messages over a pair of pipes, with one system call per read or write."""

from __future__ import annotations

import contextlib
import os
import struct

_HEADER = struct.Struct("!I")
_CHUNK = 1 << 16


class Channel:
    """One end of a worker's two pipes: read from ``rfd``, write to ``wfd``."""

    __slots__ = ("_buf", "rfd", "wfd")

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd = rfd
        self.wfd = wfd
        self._buf = b""

    def send(self, payload: bytes) -> None:
        """Write one message (blocking until the pipe takes all of it)."""
        data = _HEADER.pack(len(payload)) + payload
        view = memoryview(data)
        while view:
            written = os.write(self.wfd, view)
            view = view[written:]

    def read_ready(self) -> list[bytes] | None:
        """Read what the pipe has now (one read) and return the complete messages.

        Returns ``None`` at end of file (the other side is gone).
        """
        chunk = os.read(self.rfd, _CHUNK)
        if not chunk:
            return None
        buf = self._buf + chunk if self._buf else chunk
        out: list[bytes] = []
        start = 0
        size = len(buf)
        while size - start >= 4:
            (n,) = _HEADER.unpack_from(buf, start)
            end = start + 4 + n
            if end > size:
                break
            out.append(buf[start + 4 : end])
            start = end
        self._buf = buf[start:] if start < size else b""
        return out

    def recv(self) -> bytes | None:
        """Block until one whole message arrives; ``None`` at end of file."""
        while True:
            buf = self._buf
            if len(buf) >= 4:
                (n,) = _HEADER.unpack_from(buf, 0)
                if len(buf) >= 4 + n:
                    self._buf = buf[4 + n :]
                    return buf[4 : 4 + n]
                if 4 + n - len(buf) > _CHUNK:
                    return self._recv_large(n)
            wanted = _CHUNK
            if len(buf) >= 4:
                wanted = max(wanted, 4 + _HEADER.unpack_from(buf, 0)[0] - len(buf))
            chunk = os.read(self.rfd, wanted)
            if not chunk:
                return None
            self._buf = buf + chunk

    def _recv_large(self, n: int) -> bytes | None:
        """The rest of a large message, read into one buffer.

        A pipe gives 64 KiB a read: joining the pieces one by one would copy the message over
        and over (minutes for 200 MB).
        """
        have = self._buf
        message = bytearray(4 + n)
        message[: len(have)] = have
        view = memoryview(message)
        got = len(have)
        while got < 4 + n:
            read = os.readv(self.rfd, [view[got:]])
            if not read:
                return None
            got += read
        self._buf = b""
        return bytes(view[4:])

    def close(self) -> None:
        """Close both pipes."""
        for fd in (self.rfd, self.wfd):
            with contextlib.suppress(OSError):
                os.close(fd)
