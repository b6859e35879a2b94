"""byop's messages go through `logging`, under the ``byop`` logger, as Optuna's and Ray's do.

Importing `byop.history` gives the ``byop`` logger the INFO level (unless it was given one)
and a default handler that writes each message to standard error. That handler steps aside
as soon as the messages have somewhere else to go: a handler of your own on ``byop`` (or on
one of its children), or on the root logger (``logging.basicConfig``). So:

- silence byop: ``logging.getLogger("byop").setLevel(logging.WARNING)``;
- redirect it: add a handler (a file, your application's log) to ``byop`` or to the root;
- see byop's debug messages: ``logging.getLogger("byop").setLevel(logging.DEBUG)``.

A message written while a progress bar is drawn goes above the bar, not through it.
"""

from __future__ import annotations

import logging
import sys
import weakref
from typing import Any

LOGGER = "byop"

bars: weakref.WeakSet[Any] = weakref.WeakSet()
"""The live progress bars (tqdm objects) drawn on standard error."""


class DefaultHandler(logging.Handler):
    """Writes byop's messages to standard error, unless another handler takes them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if _handled_elsewhere(record.name, self):
            return
        try:
            text = self.format(record)
            stream = sys.stderr
            live = [bar for bar in list(bars) if getattr(bar, "fp", None) is stream]
            if live:
                type(live[0]).write(text, file=stream)
            else:
                stream.write(text + "\n")
                stream.flush()
        except Exception:
            self.handleError(record)


def _handled_elsewhere(name: str, me: logging.Handler) -> bool:
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        if any(h is not me for h in logger.handlers):
            return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


def configure() -> None:
    """Give the ``byop`` logger its level and default handler, once."""
    logger = logging.getLogger(LOGGER)
    if any(isinstance(h, DefaultHandler) for h in logger.handlers):
        return
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    logger.addHandler(DefaultHandler())
