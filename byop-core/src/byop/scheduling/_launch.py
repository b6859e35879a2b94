"""Starting byop's worker processes: forked, spawned, or as fresh interpreters.

Every way gives the worker the two ends of its pipes and its `Progress` area's descriptor, and
runs `worker_main`; the main side
gets an object with the interface of ``multiprocessing.Process`` (``pid``, ``sentinel``,
``exitcode``, ``join``, ``close``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from multiprocessing import reduction
from typing import Any


class PassedFd:
    """A file descriptor handed to a worker started by ``spawn`` or ``forkserver``.

    Pickled as multiprocessing's ``DupFd``, so the descriptor travels with the process's
    arguments; the worker receives it as a plain int.
    """

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, ...]:
        return (_received_fd, (reduction.DupFd(self.fd),))


def _received_fd(dup: Any) -> int:
    fd: int = dup.detach()
    return fd


_EXEC_MAIN = (
    "import sys; sys.path[:] = sys.argv[4:]; "
    "from byop.scheduling._worker import worker_main; "
    "worker_main(int(sys.argv[1]), int(sys.argv[2]), [], int(sys.argv[3]))"
)


class ExecProcess:
    """A worker started as a fresh interpreter (``start_method="exec"``).

    Nothing of the parent comes along but the descriptors and ``sys.path``: no fork of a
    process that may be running threads, and, unlike ``spawn`` and ``forkserver``, no import
    of the parent's ``__main__``, so it works from any script, notebook or engine worker. The
    same interface as the ``multiprocessing.Process`` objects the back end uses.
    """

    def __init__(self, rfd: int, wfd: int, progress_fd: int) -> None:
        self._fds = (rfd, wfd, progress_fd)
        self._popen: subprocess.Popen[bytes] | None = None
        self._exit_r = -1
        self.pid = 0
        self.sentinel = -1

    def start(self) -> None:
        rfd, wfd, progress_fd = self._fds
        fds: tuple[int, ...] = self._fds
        exit_w = -1
        if not hasattr(os, "pidfd_open"):
            # Elsewhere than Linux: a pipe the worker holds open until it exits.
            self._exit_r, exit_w = os.pipe()
            fds = (*fds, exit_w)
        self._popen = subprocess.Popen(
            [sys.executable, "-c", _EXEC_MAIN, str(rfd), str(wfd), str(progress_fd), *sys.path],
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
            process_group=0,  # its own group from the start, as the worker sets it later
        )
        self.pid = self._popen.pid
        if exit_w >= 0:
            os.close(exit_w)
            self.sentinel = self._exit_r
        else:
            self.sentinel = os.pidfd_open(self.pid)

    @property
    def exitcode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def join(self, timeout: float | None = None) -> None:
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout)

    def close(self) -> None:
        if self.sentinel >= 0:
            with contextlib.suppress(OSError):
                os.close(self.sentinel)
            self.sentinel = -1

    __del__ = close
