"""Reading a worker's buffers straight from its memory (Linux ``process_vm_readv``).

One copy, from the worker's memory into the main process's, with no trip through a pipe: the
worker sends where its large buffers are, keeps them until the next message, and the main
process reads them. The main process started the worker, so it may read its memory (the
``ptrace`` rules); where it may not (a hardened kernel, another platform), `read_from` says so
and the buffers come through the pipe.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from typing import Any


class _IOVec(ctypes.Structure):
    _fields_ = (("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t))


def _process_vm_readv() -> Any:
    if sys.platform != "linux":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.process_vm_readv
    except (OSError, AttributeError):
        return None
    function.argtypes = (
        ctypes.c_int,
        ctypes.POINTER(_IOVec),
        ctypes.c_ulong,
        ctypes.POINTER(_IOVec),
        ctypes.c_ulong,
        ctypes.c_ulong,
    )
    function.restype = ctypes.c_ssize_t
    return function


_readv = _process_vm_readv()
AVAILABLE = _readv is not None
"""Whether buffers can be read from another process's memory here."""

_BATCH = 512  # iovecs per call (IOV_MAX is 1024)


def address_of(view: memoryview) -> tuple[int, Any] | None:
    """Where ``view``'s bytes are in this process, and what keeps them exported.

    ``None`` if they cannot be read by address (a read-only or scattered buffer).
    """
    if view.readonly or not view.c_contiguous:
        return None
    try:
        exported = ctypes.c_char.from_buffer(view)
    except (TypeError, ValueError, BufferError):
        return None
    return ctypes.addressof(exported), exported


def address_of_bytes(data: bytes) -> int:
    """Where the bytes of ``data`` are in this process (CPython keeps them in the object)."""
    address = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
    assert address is not None
    return address


def read_from(
    pid: int, addresses: list[int], sizes: list[int], allocate: Callable[[int], Any]
) -> list[Any] | None:
    """Process ``pid``'s buffers at ``addresses``, copied into buffers made by ``allocate``.

    Returns ``None`` when they cannot be read (no permission, the process is gone).
    """
    if _readv is None or pid <= 0:
        return None
    out = [allocate(size) for size in sizes]
    local: list[tuple[int, int]] = []
    keep = []  # the exported views, until the copy is done
    for buffer, size in zip(out, sizes, strict=True):
        if size:
            exported = ctypes.c_char.from_buffer(buffer)
            keep.append(exported)
            local.append((ctypes.addressof(exported), size))
    remote = [(a, s) for a, s in zip(addresses, sizes, strict=True) if s]
    try:
        for i in range(0, len(local), _BATCH):
            if not _copy(pid, local[i : i + _BATCH], remote[i : i + _BATCH]):
                return None
    finally:
        del keep
    return out


def _copy(pid: int, local: list[tuple[int, int]], remote: list[tuple[int, int]]) -> bool:
    """Copy the remote ranges into the local ones (same sizes, in order); whether it worked."""
    assert _readv is not None
    while local:
        n = len(local)
        mine = (_IOVec * n)(*(_IOVec(a, s) for a, s in local))
        theirs = (_IOVec * n)(*(_IOVec(a, s) for a, s in remote))
        got = _readv(pid, mine, n, theirs, n, 0)
        if got <= 0:
            return False
        # A partial copy (the kernel stops at a page it cannot read): go on from there.
        while got and local:
            (la, ls), (ra, rs) = local[0], remote[0]
            if got >= ls:
                got -= ls
                local, remote = local[1:], remote[1:]
            else:
                local[0], remote[0] = (la + got, ls - got), (ra + got, rs - got)
                got = 0
    return True
