"""Where callback threads leave what a back end's `wait` picks up."""

from __future__ import annotations

import queue
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_WAKEUP: Any = object()


class Inbox(Generic[T]):
    """What callback threads hand to a back end's `Backend.wait`: finished calls, or news.

    `put` and `wakeup` work from any thread. `take` blocks until the first item arrives (or
    ``timeout`` passes, or a `wakeup`), then takes every other item already there.

    Example:
        ```python
        from byop.scheduling import Inbox

        inbox: Inbox[int] = Inbox()
        inbox.put(1)
        inbox.wakeup()
        inbox.put(2)
        assert inbox.take(timeout=0) == [1, 2]
        assert inbox.take(timeout=0) == []
        ```
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def put(self, item: T) -> None:
        """Hand ``item`` to `take`."""
        self._queue.put(item)

    def wakeup(self) -> None:
        """Make a blocked `take` return, with what is there (perhaps nothing)."""
        self._queue.put(_WAKEUP)

    def take(self, timeout: float | None) -> list[T]:
        """The items that have arrived, waiting up to ``timeout`` seconds for the first."""
        q = self._queue
        try:
            first = q.get(timeout=timeout)
        except queue.Empty:
            return []
        out: list[T] = [] if first is _WAKEUP else [first]
        while True:
            try:
                item = q.get_nowait()
            except queue.Empty:
                return out
            if item is not _WAKEUP:
                out.append(item)

    def clear(self) -> None:
        """Drop whatever has not been taken."""
        self.take(timeout=0)
