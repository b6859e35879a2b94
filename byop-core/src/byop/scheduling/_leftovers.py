"""What a call leaves behind where it ran: processes, the working directory, the environment.

byop's process workers end every process a call started (they are child subreapers, see
`byop.scheduling._worker`) and, with `ProcessState`, put the working directory and the
environment back after each call, so that no call changes them for the next. In this
process (the thread and sequential back ends), a call's processes are found as the children
of the thread that ran it (Linux keeps a list per thread): those that appeared during the call
and still run when it returns are ended with their own children. A process the call left as an
orphan (one that double-forks, a daemon) is no longer a child and escapes: use the process back
end for calls that start such processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Any

_LINUX_PROC = os.path.isdir("/proc/self/task")


class _ChildrenFile:
    """The open ``/proc`` file listing one thread's children (opening it costs 50 us)."""

    __slots__ = ("fd", "pid")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.fd = os.open(f"/proc/self/task/{threading.get_native_id()}/children", os.O_RDONLY)

    def __del__(self) -> None:  # the thread ended (its locals go): close the file
        with contextlib.suppress(OSError):
            os.close(self.fd)


_local = threading.local()


def thread_children() -> set[int]:
    """The process ids of the running children this thread started (none off Linux)."""
    if not _LINUX_PROC:
        return set()
    file: _ChildrenFile | None = getattr(_local, "children", None)
    try:
        if file is None or file.pid != os.getpid():  # first use, or a forked child's copy
            file = _local.children = _ChildrenFile()
        return {int(pid) for pid in os.pread(file.fd, 65536, 0).split()}
    except OSError:
        return set()


def children(pid: int) -> list[int]:
    """The children of process ``pid``, started by any of its threads."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return out


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``: its children, theirs, and so on."""
    found: list[int] = []
    stack = children(pid)
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children(child))
    return found


def end_new_children(before: set[int]) -> None:
    """End the children this thread started since ``before`` was taken, with their own.

    They are killed (``SIGKILL``) and reaped; a child that ended already is only reaped.
    """
    new = thread_children() - before
    if not new:
        return
    doomed = [*new, *(d for pid in new for d in descendants(pid))]
    for pid in doomed:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for pid in new:  # only our own children can be reaped here
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)


class ProcessState:
    """The working directory and environment of this process, to put back after a call.

    Checking costs a ``getcwd`` and one comparison of the environment's dictionary (about
    3 us); restoring happens only when a call changed something.
    """

    __slots__ = ("_cwd", "_cwd_fd", "_environ")

    def __init__(self) -> None:
        self._cwd = os.getcwd()
        self._cwd_fd: int | None = None
        try:
            self._cwd_fd = os.open(self._cwd, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            self._cwd_fd = None
        self._environ = dict(_environ_data())

    def restore(self) -> None:
        """Put the working directory and the environment back as they were when taken."""
        data = _environ_data()
        if data != self._environ:
            _restore_environ(self._environ)
        try:
            moved = os.getcwd() != self._cwd
        except OSError:  # the directory the call moved to was removed
            moved = True
        if moved:
            with contextlib.suppress(OSError):
                if self._cwd_fd is not None:
                    os.fchdir(self._cwd_fd)
                else:
                    os.chdir(self._cwd)

    def close(self) -> None:
        """Release the directory it holds open."""
        fd, self._cwd_fd = self._cwd_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    __del__ = close


def _environ_data() -> dict[Any, Any]:
    """The environment as ``os.environ`` keeps it (encoded keys and values, on POSIX)."""
    environ: Any = os.environ
    data: dict[Any, Any] = getattr(environ, "_data", environ)
    return data


def _restore_environ(saved: dict[Any, Any]) -> None:
    """Make the environment ``saved`` again, through ``os.environ`` (which calls putenv)."""
    environ: Any = os.environb if hasattr(os, "environb") else os.environ
    current = _environ_data()
    for key in [k for k in current if k not in saved]:
        del environ[key]
    for key, value in saved.items():
        if current.get(key) != value:
            environ[key] = value
