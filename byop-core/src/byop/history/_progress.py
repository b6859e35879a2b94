"""Showing a run's progress: a live bar on a terminal, plain lines elsewhere, or nothing."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Literal, TextIO

from byop.history._history import History, metric_value
from byop.history._pareto import ParetoFront, front_status
from byop.history._summary import format_duration, format_value, summary
from byop.optimization import Metric, Report, ReportStatus

ProgressMode = Literal["auto", "bar", "lines", "off"]
"""How `Progress` shows itself: ``auto`` picks ``bar`` on a terminal, else ``lines``."""

_Resolved = Literal["bar", "lines", "off"]
_MODES = ("auto", "bar", "lines", "off")


def resolve_mode(mode: ProgressMode | bool | None, stream: TextIO) -> _Resolved:
    """The mode to use: ``auto`` (or ``True``) is ``bar`` on a terminal, else ``lines``.

    ``False`` and ``None`` are ``off``.

    Raises:
        ValueError: ``mode`` is none of the above.
    """
    if mode is None or mode is False:
        return "off"
    if mode is True:
        mode = "auto"
    if mode not in _MODES:
        raise ValueError(
            f"progress must be one of {', '.join(repr(m) for m in _MODES)}, True or False; "
            f"got {mode!r}."
        )
    if mode == "auto":
        is_tty = getattr(stream, "isatty", None)
        terminal = callable(is_tty) and bool(is_tty()) and os.environ.get("TERM") != "dumb"
        return "bar" if terminal else "lines"
    return mode


# A bar redraws from its own thread. Worker processes are forked while it runs, so a fork must
# never catch that thread halfway through a write (the child would inherit a held lock of the
# stream): each live bar's lock is taken around every fork.
_live: weakref.WeakSet[Progress] = weakref.WeakSet()


def _before_fork() -> None:
    for progress in list(_live):
        progress._lock.acquire()


def _after_fork_in_parent() -> None:
    for progress in list(_live):
        progress._lock.release()


def _after_fork_in_child() -> None:
    for progress in list(_live):
        progress._closed = True  # the child never draws the parent's bar
        progress._lock.release()
    _live.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


class Progress:
    """Shows a run's progress as its reports arrive, and sums the run up at the end.

    Feed it every report with `update`. On a terminal it draws one live line, redrawn as
    reports arrive and a few times a second: trials done of ``total``, elapsed time, the best
    value so far, failures and crashes. Elsewhere (a log file, a CI job) it prints a plain line
    at each new best and at every tenth of ``total``. `close` prints the `summary`.

    Args:
        total: The most trials the run may finish (``max_trials``), if any.
        timeout: The run's time limit in seconds, if any.
        metric: The metric to show the best of (``cost`` minimised by default).
        metrics: Or: every metric of the run. With several, the display shows the size of
            the Pareto front (and each trial that joins it) in place of the best value, and
            the summary lists the front.
        mode: ``"auto"`` (a bar on a terminal, else lines), ``"bar"``, ``"lines"`` or
            ``"off"``; ``True`` is ``"auto"``, ``False`` is ``"off"``.
        stream: Where to write (standard error by default).
        title: Shown before the bar and atop the summary.
        history: Reports done before (a resumed run): counted, not shown again.
        refresh: Seconds between redraws of the bar while no report arrives.

    Example:
        ```python
        import io

        from byop.history import Progress
        from byop.optimization import Trial

        out = io.StringIO()
        with Progress(total=3, mode="lines", stream=out) as progress:
            for i, cost in enumerate([3.0, 1.0, 2.0]):
                progress.update(Trial(f"t{i}", {"x": cost}).success(cost=cost))
        assert "new best cost 1" in out.getvalue()
        assert "best  t1  cost = 1" in out.getvalue()
        ```
    """

    def __init__(
        self,
        *,
        total: int | None = None,
        timeout: float | None = None,
        metric: Metric | str | None = None,
        mode: ProgressMode | bool = "auto",
        stream: TextIO | None = None,
        title: str | None = None,
        history: Iterable[Report[Any]] = (),
        refresh: float = 0.25,
        metrics: Iterable[Metric | str] | None = None,
    ) -> None:
        self.stream: TextIO = sys.stderr if stream is None else stream
        self.mode = resolve_mode(mode, self.stream)
        self.total = total
        self.timeout = timeout
        self.title = title or "byop"
        self.refresh = refresh
        declared = list(metrics) if metrics is not None else None
        if declared is None and metric is not None:
            declared = [metric]
        self.history = History(history, metrics=declared)
        self.metric = self.history.metric()
        self.front: ParetoFront | None = (
            ParetoFront(self.history.metrics) if len(self.history.metrics) > 1 else None
        )
        self._previous = len(self.history)
        self._best: float | None = None
        self._best_name: str | None = None
        for report in self.history:
            self._consider(report)
        self._counts = self.history.counts()
        self._next_line = self._milestone(len(self.history))
        self._lock = threading.RLock()
        self._started: float | None = None
        self._closed = False
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._drawn = 0
        self._bar_chars = _bar_chars(self.stream)

    # ------------------------------------------------------------------ feeding
    def start(self) -> None:
        """Start the clock (and, for the bar, its redraws); `update` starts it if needed."""
        with self._lock:
            if self._started is not None:
                return
            self._started = time.monotonic()
            if self.mode == "lines":
                self._print(self._start_line())
            elif self.mode == "bar":
                self._draw()
                self._ticker = threading.Thread(
                    target=self._tick, name="byop-progress", daemon=True
                )
                _live.add(self)
                self._ticker.start()

    def update(self, report: Report[Any]) -> None:
        """Take the report of a finished trial."""
        with self._lock:
            if self._started is None:
                self.start()
            self.history.add(report)
            self._counts[report.status] += 1
            improved = self._consider(report)
            if self.mode == "bar":
                self._draw()
            elif self.mode == "lines":
                done = len(self.history)
                if improved and self.front is not None:
                    self._print(f"{self._prefix()} {front_status(self.front, report)}")
                elif improved:
                    self._print(
                        f"{self._prefix()} new best {self.metric.name} "
                        f"{format_value(self._best)} from {self._best_name}"
                    )
                elif done >= self._next_line:
                    self._print(f"{self._prefix()} {self._status()}")
                if done >= self._next_line:
                    self._next_line = self._milestone(done)

    def close(self, *, show_summary: bool = True, details: dict[str, Any] | None = None) -> None:
        """Stop the display, and print the summary (unless the mode is ``off``)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2.0)
            _live.discard(self)
        with self._lock:
            if self.mode == "bar" and self._started is not None:
                self._draw()
                self.stream.write("\n")
            if self.mode != "off" and show_summary:
                self._print(self.summary(details=details))
            self.stream.flush()

    def summary(self, *, details: dict[str, Any] | None = None) -> str:
        """The summary table of the reports so far (see `byop.history.summary`)."""
        done = len(self.history)
        resumed = f", {self._previous} from before" if self._previous else ""
        title = f"{self.title}: {done} trials{resumed} in {format_duration(self.elapsed)}"
        metric = None if self.front is not None else self.metric
        return summary(self.history, metric=metric, title=title, details=details)

    # ------------------------------------------------------------------ state
    @property
    def elapsed(self) -> float:
        """Seconds since `start`."""
        return 0.0 if self._started is None else time.monotonic() - self._started

    @property
    def best(self) -> float | None:
        """The best value so far, if any trial succeeded with one."""
        return self._best

    def _consider(self, report: Report[Any]) -> bool:
        if self.front is not None:
            return self.front.add(report)
        value = metric_value(report, self.metric)
        if value is None:
            return False
        better = self._best is None or (
            value < self._best if self.metric.minimize else value > self._best
        )
        if better:
            self._best, self._best_name = value, report.trial.name
        return better

    def _milestone(self, done: int) -> int:
        step = max(1, self.total // 10) if self.total else 25
        return (done // step + 1) * step

    # ------------------------------------------------------------------ text
    def _start_line(self) -> str:
        limits = []
        if self.total is not None:
            limits.append(f"{self.total} trials")
        if self.timeout is not None:
            limits.append(format_duration(self.timeout))
        since = f", {self._previous} done before" if self._previous else ""
        return f"{self.title}: started, run limits {' or '.join(limits) or 'none'}{since}"

    def _prefix(self) -> str:
        done = len(self.history)
        of = f"/{self.total}" if self.total is not None else ""
        return f"{self.title} [{done}{of} {format_duration(self.elapsed)}]"

    def _status(self) -> str:
        best = (
            f"best {self.metric.name} {format_value(self._best)}"
            if self._best is not None
            else "no best yet"
        )
        if self.front is not None:
            best = front_status(self.front)
        return (
            f"{best}, {self._counts[ReportStatus.FAIL]} failed, "
            f"{self._counts[ReportStatus.CRASHED]} crashed"
        )

    def _fraction(self) -> float | None:
        fractions = []
        if self.total:
            fractions.append(len(self.history) / self.total)
        if self.timeout:
            fractions.append(self.elapsed / self.timeout)
        return min(1.0, max(fractions)) if fractions else None

    def _line(self, width: int) -> str:
        done = len(self.history)
        of = f"/{self.total}" if self.total is not None else ""
        clock = format_duration(self.elapsed)
        if self.timeout is not None:
            clock += f"/{format_duration(self.timeout)}"
        best = (
            f"best {format_value(self._best)} ({self._best_name})"
            if self._best is not None
            else "best -"
        )
        if self.front is not None:
            best = f"front {len(self.front)}"
        tail = (
            f" {done}{of}  {clock}  {best}  fail {self._counts[ReportStatus.FAIL]}"
            f"  crash {self._counts[ReportStatus.CRASHED]}"
        )
        fraction = self._fraction()
        head = self.title
        room = width - len(head) - len(tail) - 4
        if fraction is not None and room >= 10:
            cells = min(30, room)
            full, empty = self._bar_chars
            filled = round(fraction * cells)
            head += f" [{full * filled}{empty * (cells - filled)}]"
        return (head + tail)[: max(1, width - 1)]

    def _draw(self) -> None:
        width = shutil.get_terminal_size((100, 24)).columns
        line = self._line(width)
        self.stream.write("\r" + line + " " * max(0, self._drawn - len(line)))
        self.stream.flush()
        self._drawn = len(line)

    def _tick(self) -> None:
        while not self._stop.wait(self.refresh):
            with self._lock:
                if not self._closed:
                    self._draw()

    def _print(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    # ------------------------------------------------------------------ context
    def __enter__(self) -> Progress:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _bar_chars(stream: TextIO) -> tuple[str, str]:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "█░".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ("#", "-")
    return ("█", "░")
