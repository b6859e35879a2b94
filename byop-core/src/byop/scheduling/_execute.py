"""Running one call where it is executed, whatever the back end."""

from __future__ import annotations

import traceback as _tb
from collections.abc import Callable
from typing import Any

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
        if limits is None:
            return (True, fn(*args, **kwargs) if kwargs else fn(*args), None)
        if kwargs:
            return (True, call_with_limits(limits, fn, *args, **kwargs), None)
        return (True, call_with_limits(limits, fn, *args), None)
    except Exception as e:
        exc = as_limit_exception(limits, e)
        return (False, exc, "".join(_tb.format_exception(exc)))
