"""Ctrl-C during `optimize`: the first stops the run cleanly, a second stops it at once."""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class AtOnce(KeyboardInterrupt):
    """A second Ctrl-C while the run was stopping: skip the rest of the clean-up."""


class Interrupts:
    """Counts Ctrl-C (SIGINT) while a run is on, in the main thread only.

    The first raises `KeyboardInterrupt`, as Python does: the run stops its workers, ends
    its store and prints its summary. A second raises `AtOnce`, which the clean-up does not
    wait for. Outside the main thread, or when the program installed its own SIGINT handler,
    nothing is changed.
    """

    def __init__(self) -> None:
        self.count = 0
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt
        raise AtOnce("a second Ctrl-C: stopped at once")

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is signal.default_int_handler:
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def seen(self) -> None:
        """A `KeyboardInterrupt` reached the run (also when raised by other means)."""
        self.count = max(self.count, 1)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
