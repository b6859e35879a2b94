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
import functools
import os
import signal
import threading
from collections.abc import Iterator
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


def thread_children() -> bytes:
    """The running children this thread started, as Linux lists them (``b"12 345 "``).

    Empty off Linux. Compare two of them as they are (the common case: both empty); read
    the process ids with `pids`.
    """
    if not _LINUX_PROC:
        return b""
    file: _ChildrenFile | None = getattr(_local, "children", None)
    try:
        if file is None or file.pid != os.getpid():  # first use, or a forked child's copy
            file = _local.children = _ChildrenFile()
        listed = os.pread(file.fd, 4096, 0)
        if len(listed) == 4096:  # hundreds of children: read them all
            listed = os.pread(file.fd, 1 << 22, 0)
        return listed
    except OSError:
        return b""


def pids(listed: bytes) -> set[int]:
    """The process ids of a `thread_children` list."""
    return {int(pid) for pid in listed.split()}


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


def end_new_children(before: bytes) -> None:
    """End the children this thread started since ``before`` was listed, with their own.

    They are killed (``SIGKILL``) and reaped.
    """
    now = thread_children()
    if now == before:
        return
    new = pids(now) - pids(before)
    if not new:
        return
    doomed = [*new, *(d for pid in new for d in descendants(pid))]
    for pid in doomed:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for pid in new:  # only our own children can be reaped here
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)


@contextlib.contextmanager
def left_as_found() -> Iterator[None]:
    """Around a call where nothing else runs meanwhile: afterwards, nothing of it is left.

    The processes it started (from this thread) are ended, and the working directory and
    the environment are put back as they were.
    """
    before = thread_children()
    state = ProcessState()
    try:
        yield
    finally:
        end_new_children(before)
        state.restore()
        state.close()


class ProcessState:
    """The working directory and environment of this process, to put back after a call.

    Args:
        watch: For a process that is byop's own (a worker): note, instead of checking after
            every call, whether a call changed them, by wrapping ``os.chdir``, ``os.fchdir``,
            ``os.putenv`` and ``os.unsetenv`` (which ``os.environ`` calls), so that a call
            that changed nothing costs nothing. Without it, `restore` checks (a ``getcwd``
            and a comparison of the environment: a few microseconds). A change made around
            these (a C library calling ``chdir`` or ``setenv`` itself) is not seen then.
    """

    __slots__ = ("_cwd", "_cwd_fd", "_environ", "_watch")

    def __init__(self, *, watch: bool = False) -> None:
        self._cwd = os.getcwd()
        self._cwd_fd: int | None = None
        try:
            self._cwd_fd = os.open(self._cwd, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            self._cwd_fd = None
        self._environ = dict(_environ_data())
        self._watch = watch
        if watch:
            _note_changes()

    def restore(self) -> None:
        """Put the working directory and the environment back as they were when taken."""
        if self._watch:
            if not _changed[0]:
                return
            _changed[0] = False
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
        if self._watch:
            _changed[0] = False  # restoring is no change

    def close(self) -> None:
        """Release the directory it holds open."""
        fd, self._cwd_fd = self._cwd_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    __del__ = close


_changed = [False]
"""Whether the directory or the environment may have changed since the last restore."""


def _note_changes() -> None:
    """Wrap the functions that change the directory or the environment to note each call."""
    for name in ("chdir", "fchdir", "putenv", "unsetenv"):
        original = getattr(os, name, None)
        if original is not None and not getattr(original, "__byop_noted__", False):
            setattr(os, name, _noting(original))


def _noting(original: Any) -> Any:
    @functools.wraps(original)
    def noted(*args: Any, **kwargs: Any) -> Any:
        _changed[0] = True
        return original(*args, **kwargs)

    noted.__byop_noted__ = True  # type: ignore[attr-defined]
    noted.__module__ = "os"  # pickled by reference as os.<name>, which it now is
    return noted


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
