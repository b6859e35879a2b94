"""Running one call where it is executed, whatever the back end."""

from __future__ import annotations

import traceback as _tb
from collections.abc import Callable
from typing import Any

from byop.scheduling._leftovers import end_new_children, left_as_found, thread_children
from byop.scheduling._limits import Limits, as_limit_exception, call_with_limits

Outcome = tuple[bool, Any, str | None]
"""``(True, value, None)`` or ``(False, exception, formatted traceback)``."""


def execute(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    limits: Limits | None,
) -> Outcome:
    """Call ``fn`` under ``limits``; never raises (except ``BaseException`` like SystemExit)."""
    try:
        if kwargs:
            return (True, call_with_limits(limits, fn, *args, **kwargs), None)
        return (True, call_with_limits(limits, fn, *args), None)
    except Exception as e:
        exc = as_limit_exception(limits, e)
        return (False, exc, "".join(_tb.format_exception(exc)))


def execute_in_thread(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    limits: Limits | None,
) -> Outcome:
    """`execute` in a thread of a process that runs other calls too (the thread back end).

    The processes the call started and left running are ended when it returns. The working
    directory and the environment belong to the whole process, and so to the calls running
    beside this one: they are left as the call leaves them.
    """
    before = thread_children()
    try:
        return execute(fn, args, kwargs, limits)
    finally:
        end_new_children(before)


def execute_in_worker_thread(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    limits: Limits | None,
) -> Outcome:
    """`execute_in_thread` in one of byop's `WorkerThreads`, which run nothing but calls.

    Such a thread has no children of its own before a call (those of the last call were
    ended), so only what is left after the call is read.
    """
    try:
        return execute(fn, args, kwargs, limits)
    finally:
        end_new_children(b"")


def execute_alone(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    limits: Limits | None,
) -> Outcome:
    """`execute` where nothing else runs meanwhile, putting back what the call changed.

    For the sequential back end and an engine's worker process: the call's processes are
    ended, and the working directory and the environment are put back as they were before
    it, as on byop's process workers.
    """
    with left_as_found():
        return execute(fn, args, kwargs, limits)
