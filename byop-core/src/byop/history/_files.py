"""The file primitives of a run store: the writer's lock, and making writes durable."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from byop.history._errors import StoreLockedError


def lock(fd: int, path: Path) -> None:
    """Take the advisory lock that keeps a second process from writing to the same run."""
    if sys.platform == "win32":  # pragma: no cover - no flock there
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StoreLockedError(
            path,
            f"{path} is being written by another process; only one process may write to a "
            "run. Wait for it to finish, or stop it, before resuming.",
        ) from None
    except OSError:
        # File systems without locks (some network ones): go on unlocked.
        return


@contextlib.contextmanager
def locked(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR)
    try:
        lock(fd, path)
        yield fd
    finally:
        os.close(fd)


def sync_file(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


def sync_directory(directory: Path) -> None:
    """Make a new directory entry durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
