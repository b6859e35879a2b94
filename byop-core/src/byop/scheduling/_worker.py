"""The worker side of byop's process back end: the loop each worker process runs.

A worker receives calls over its pipe, runs each (under its limits, see
`byop.scheduling._limits`), ends every process the call started, puts the working directory
and the environment back as they were, and sends the outcome back.
Each worker leads its own process group, is a child subreaper (so processes its calls start
and orphan come back to it), and dies with the main process.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import pickle
import signal
from typing import Any

from byop.optimization import ForeignException
from byop.scheduling._errors import NotPicklableError
from byop.scheduling._execute import execute
from byop.scheduling._leftovers import ProcessState
from byop.scheduling._limits import Limits
from byop.scheduling._names import function_label
from byop.scheduling._wire import Channel

PROTOCOL = pickle.HIGHEST_PROTOCOL
"""The pickle protocol of every message between the main process and its workers."""

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: fewer guarantees, same behaviour otherwise


def _children(pid: int) -> list[int]:
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


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    stack = _children(pid)
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(_children(child))
    return found


def _end_children(me: int) -> None:
    """Kill every process this worker's call started (and their own children), and reap them.

    One ``waitpid`` tells whether there are any children at all (``ECHILD`` when there are
    none, the common case); only then is ``/proc`` walked.
    """
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return
    for pid in _descendants(me):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    _reap(block_for=_children(me))


def _reap(block_for: list[int] | None = None) -> None:
    for pid in block_for or ():
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def worker_main(rfd: int, wfd: int, close_fds: list[int]) -> None:
    """The loop of one worker process: receive a call, run it, send the outcome back."""
    for fd in close_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    if os.getppid() == 1:
        os._exit(0)  # the main process died before we got here
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    channel = Channel(rfd, wfd)
    me = os.getpid()
    functions: dict[int, tuple[Any, Limits | None]] = {}
    state = ProcessState(watch=True)  # each call starts in the worker's directory and environment
    recv = channel.recv
    send = channel.send
    loads = pickle.loads
    dumps = pickle.dumps
    while True:
        try:
            data = recv()
        except OSError:
            return
        if data is None:
            return
        message = loads(data)
        if message is None:
            return
        call_id, key, registration, args, kwargs = message
        if registration is not None:
            fn_bytes, limits = registration
            functions[key] = (loads(fn_bytes), limits)
            # Loading a function (and what it imports) is not the call's time: its limits
            # start now (only a worker that just loaded one says so, to save a message).
            try:
                send(dumps((call_id,), PROTOCOL))
            except OSError:
                return
        fn, limits = functions[key]
        ok, value, tb = execute(fn, args, kwargs, limits)
        _end_children(me)
        state.restore()
        try:
            out = dumps((call_id, ok, value, tb), PROTOCOL)
        except Exception as e:
            out = dumps((call_id, False, unsendable(fn, ok, value, e), tb), PROTOCOL)
        try:
            send(out)
        except OSError:
            return


def unsendable(fn: Any, ok: bool, value: Any, error: Exception) -> BaseException:
    """What to send back instead of a result or exception that cannot be pickled."""
    if ok:
        return NotPicklableError(
            f"The result of {function_label(fn)} cannot be sent back from the worker: "
            f"{type(error).__name__}: {error}. Return plain data (numbers, strings, lists, "
            "dicts, numpy arrays)."
        )
    return ForeignException(f"{type(value).__module__}.{type(value).__qualname__}", str(value))
