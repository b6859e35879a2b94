"""The scheduler running in this context, for tasks called without one."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from byop.scheduling._scheduler import Scheduler

running: ContextVar[Scheduler | None] = ContextVar("byop_running_scheduler", default=None)
"""The scheduler running in this context (set by `Scheduler.run`)."""
