"""The worker side of byop's process back end: the loop each worker process runs.

A worker receives calls over its pipe, runs each (under its limits, see
`byop.scheduling._limits`), sends the outcome back, and before it takes the next call ends
every process the call started and puts the working directory and the environment back as
they were.
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
import threading
from collections.abc import Callable
from typing import Any

from byop.optimization import ForeignException
from byop.scheduling import _links
from byop.scheduling._errors import NotPicklableError
from byop.scheduling._execute import execute
from byop.scheduling._leftovers import ProcessState, children, descendants
from byop.scheduling._limit_spec import Limits
from byop.scheduling._limits import keep_handlers_installed, settle
from byop.scheduling._names import function_label
from byop.scheduling._progress import Progress
from byop.scheduling._wire import PROTOCOL, Channel, PickleFailedError, load

__all__ = ["PROTOCOL", "unsendable", "worker_main"]

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: fewer guarantees, same behaviour otherwise


def _end_children(me: int) -> None:
    """Kill every process this worker's call started (and their own children), and reap them.

    One ``waitpid`` tells whether there are any children at all (``ECHILD`` when there are
    none, the common case); only then is ``/proc`` walked.
    """
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return
    for pid in descendants(me):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    _reap(block_for=children(me))


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


def worker_main(rfd: int, wfd: int, close_fds: list[int], progress_fd: int) -> None:
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
    keep_handlers_installed()
    channel = Channel(rfd, wfd, share=True)
    progress = Progress(progress_fd)
    progress.close_fd()
    me = os.getpid()
    functions: dict[int, tuple[Any, Limits | None, Any]] = {}  # what to call, limits, the function
    state = ProcessState(watch=True)  # each call starts in the worker's directory and environment
    recv = channel.recv
    send = channel.send
    running = [-1, 0]  # the call running, and whether the main process said to close
    _links.worker_link = _pipe_link(channel, running)
    while True:
        try:
            message = recv()
        except OSError:
            return
        if message is None:
            return
        request = load(message)
        if request is None:
            return
        call_id, key, registration, args, kwargs = request
        if registration is not None:
            fn_bytes, limits, wired = registration
            fn = pickle.loads(fn_bytes)
            functions[key] = (fn.call_wire if wired else fn, limits, fn)
        run, limits, fn = functions[key]
        running[0] = call_id
        progress.started(call_id)
        ok, value, tb = execute(run, args, kwargs, limits)
        progress.ended(call_id)  # from here on, the time taken is the transfer's
        try:
            _send_outcome(send, fn, (call_id, ok, value, tb))
        except OSError:
            return
        value = None  # a large result is not kept until the next call
        # After sending, so that the outcome is on its way meanwhile; before the next call.
        settle()
        _end_children(me)
        state.restore()
        if running[1]:
            return


def _pipe_link(channel: Channel, running: list[int]) -> Callable[..., bool]:
    """The link of the worker's trials: progress goes over the pipe, the answer comes back.

    ``running`` holds the running call's id, and whether the main process said to close
    (then the worker ends after the call).
    """
    lock = threading.Lock()  # threads of one call take turns: one question, one answer

    def link(trial: Any, step: float, values: dict[str, Any]) -> bool:
        with lock:
            if running[1]:
                return True
            channel.send((running[0], step, values))
            answer = channel.recv()
            if answer is None or (answer := load(answer)) is None:
                running[1] = 1
                return True
            return bool(answer)

    return link


def _send_outcome(send: Callable[[Any], None], fn: Any, outcome: tuple[Any, ...]) -> None:
    """Send a call's outcome, or what stands for it if it cannot be pickled."""
    try:
        send(outcome)
        return
    except PickleFailedError as e:
        failed = e
    if isinstance(failed.__cause__, MemoryError) and settle():
        try:  # it ran out of memory under the call's limit, which is lifted now
            send(outcome)
            return
        except PickleFailedError as e:
            failed = e
    call_id, ok, value, tb = outcome
    cause = failed.__cause__ if isinstance(failed.__cause__, Exception) else failed
    send((call_id, False, unsendable(fn, ok, value, cause), tb))


def unsendable(fn: Any, ok: bool, value: Any, error: Exception) -> BaseException:
    """What to send back instead of a result or exception that cannot be pickled."""
    if ok:
        return NotPicklableError(
            f"The result of {function_label(fn)} cannot be sent back from the worker: "
            f"{type(error).__name__}: {error}. Return plain data (numbers, strings, lists, "
            "dicts, numpy arrays)."
        )
    return ForeignException(f"{type(value).__module__}.{type(value).__qualname__}", str(value))
