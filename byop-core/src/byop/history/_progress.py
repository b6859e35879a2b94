"""Showing a run's progress: a tqdm bar (a terminal, a notebook), log lines elsewhere, or nothing.

The display's text is made of small parts, one method each, which both the bar and the lines
use: `Progress.counts_text` (a count per report status other than success, so a new status
shows without an edit here), `Progress.best_text` (the best so far: where a Pareto front's
size would go), `Progress.clock_text` (elapsed, and the ETA) and `Progress.rate_text`.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Literal, TextIO

from byop.history import _logs
from byop.history._history import History, metric_value
from byop.history._pareto import ParetoFront, front_status
from byop.history._summary import format_duration, format_value, summary
from byop.optimization import Metric, Report, ReportStatus

ProgressMode = Literal["auto", "bar", "lines", "off"]
"""How `Progress` shows itself: ``auto`` picks ``bar`` on a terminal or in a notebook, else
``lines``."""

_Resolved = Literal["bar", "lines", "off"]
_MODES = ("auto", "bar", "lines", "off")
_PERMILLE = 1000  # the bar's resolution

logger = logging.getLogger("byop.progress")
_logs.configure()


def in_notebook() -> bool:
    """Whether this is a Jupyter kernel (IPython's ZMQ shell), where tqdm draws a widget."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    if get is None:
        return False
    try:
        shell = get()
    except Exception:
        return False
    return type(shell).__name__ == "ZMQInteractiveShell"


def resolve_mode(mode: ProgressMode | bool | None, stream: TextIO) -> _Resolved:
    """The mode to use: ``auto`` (or ``True``) is ``bar`` on a terminal or in a notebook.

    Elsewhere (a log file, a CI job) it is ``lines``. ``False`` and ``None`` are ``off``.

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
        return "bar" if terminal or in_notebook() else "lines"
    return mode


def _width() -> int:
    """The terminal's width (``COLUMNS`` first), 100 when unknown (a terminal of size 0)."""
    return shutil.get_terminal_size((100, 24)).columns or 100


def bar_class(notebook: bool) -> Any:
    """The bar's class: tqdm's widget in a notebook with ipywidgets, else tqdm's text bar."""
    cls: Any = importlib.import_module("tqdm").tqdm
    if notebook and importlib.util.find_spec("ipywidgets") is not None:  # the widget needs it
        cls = importlib.import_module("tqdm.notebook").tqdm
    base_format = cls.format_dict

    def format_dict(bar: Any) -> dict[str, Any]:
        values: dict[str, Any] = base_format.fget(bar)
        values["info"] = getattr(bar, "info", "")
        return values

    # ``{info}`` in the bar's format is byop's text. No monitor thread: a fork must never catch
    # a thread of tqdm holding its lock.
    return type("ByopBar", (cls,), {"monitor_interval": 0, "format_dict": property(format_dict)})


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

    Feed it every report with `update`. The bar (tqdm's; a widget in a notebook) shows trials
    done of the budget, the elapsed time and the time left (from the rate, or the time
    budget, whichever ends first), the rate, the best value so far and a count of failures and
    crashes; it redraws a few times a second while no report arrives. The lines mode (a log
    file, a CI job) says the same at each new best and at every tenth of the budget. `close`
    gives the `summary`.

    Lines and the summary are messages of the ``byop.progress`` logger (see `byop.history`
    on silencing or redirecting them), unless a ``stream`` is given: then they are written
    there. The bar is drawn on ``stream`` (standard error by default).

    Args:
        total: The most trials the run may finish (``max_trials``), if any.
        timeout: The run's time limit in seconds, if any.
        metric: The metric to show the best of (``cost`` minimised by default).
        mode: ``"auto"`` (a bar on a terminal or in a notebook, else lines), ``"bar"``,
            ``"lines"`` or ``"off"``; ``True`` is ``"auto"``, ``False`` is ``"off"``.
        stream: Where to draw the bar, and to write lines and the summary instead of logging.
        metrics: Or: every metric of the run. With several, the display shows the size of
            the Pareto front (and each trial that joins it) in place of the best value, and
            the summary lists the front.
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
        self._given_stream = stream
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
        self._bar: Any = None
        self._notebook = False
        self._drawn_at = 0.0

    # ------------------------------------------------------------------ feeding
    def start(self) -> None:
        """Start the clock (and, for the bar, its redraws); `update` starts it if needed."""
        with self._lock:
            if self._started is not None:
                return
            self._started = time.monotonic()
            if self.mode == "lines":
                self._say(self._start_line())
            elif self.mode == "bar":
                notebook = self._given_stream is None and in_notebook()
                self._notebook = notebook
                self._bar = bar_class(notebook)(
                    total=_PERMILLE,
                    desc=self.title,
                    file=self.stream,
                    bar_format=self._bar_format(),
                    ncols=None if notebook else _width(),
                    mininterval=0,
                    leave=True,
                )
                if self._bar.fp is sys.stderr:
                    _logs.bars.add(self._bar)
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
                if time.monotonic() - self._drawn_at >= min(self.refresh, 0.1):
                    self._draw()
            elif self.mode == "lines":
                done = len(self.history)
                if improved and self.front is not None:
                    self._say(f"{self._prefix()} {front_status(self.front, report)}")
                elif improved:
                    self._say(
                        f"{self._prefix()} new best {self.metric.name} "
                        f"{format_value(self._best)} from {self._best_name}"
                    )
                elif done >= self._next_line:
                    self._say(f"{self._prefix()} {self.status_text()}")
                if done >= self._next_line:
                    self._next_line = self._milestone(done)

    def close(self, *, show_summary: bool = True, details: dict[str, Any] | None = None) -> None:
        """Stop the display, and give the summary (unless the mode is ``off``)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2.0)
            _live.discard(self)
        with self._lock:
            if self._bar is not None:
                self._draw()
                self._bar.close()
                _logs.bars.discard(self._bar)
            if self.mode != "off" and show_summary:
                self._say(self.summary(details=details))
            if self._given_stream is not None:
                self._given_stream.flush()

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

    @property
    def rate(self) -> float | None:
        """Trials finished a second in this session, once one has."""
        done = len(self.history) - self._previous
        elapsed = self.elapsed
        return done / elapsed if done and elapsed > 0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left: to the trial budget at the current rate, or the time budget's end."""
        left = []
        rate = self.rate
        if self.total is not None and rate:
            left.append(max(0.0, self.total - len(self.history)) / rate)
        if self.timeout is not None:
            left.append(max(0.0, self.timeout - self.elapsed))
        return min(left) if left else None

    def fraction(self) -> float | None:
        """How much of the budget is spent (the larger of trials and time), if there is one."""
        fractions = []
        if self.total:
            fractions.append(len(self.history) / self.total)
        if self.timeout:
            fractions.append(self.elapsed / self.timeout)
        return min(1.0, max(fractions)) if fractions else None

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
    def counts_text(self) -> str:
        """``fail 2, crashed 0``: failures and crashes always, other statuses once they occur."""
        always = (ReportStatus.FAIL, ReportStatus.CRASHED)
        return ", ".join(
            f"{status.value} {self._counts[status]}"
            for status in ReportStatus
            if status is not ReportStatus.SUCCESS and (status in always or self._counts[status])
        )

    def best_text(self) -> str:
        """``best cost 0.25 (rs-3)``, the Pareto front (several metrics), or ``no best yet``."""
        if self.front is not None:
            return front_status(self.front)
        if self._best is None:
            return "no best yet"
        return f"best {self.metric.name} {format_value(self._best)} ({self._best_name})"

    def clock_text(self) -> str:
        """``0:12.5<0:30.1``: elapsed, and the time left when known."""
        eta = self.eta
        left = "" if eta is None else f"<{format_duration(eta)}"
        return format_duration(self.elapsed) + left

    def rate_text(self) -> str:
        """``12.3 trials/s`` (or ``4.1 s/trial`` when slower than one a second)."""
        rate = self.rate
        if rate is None:
            return "- trials/s"
        if rate >= 100:
            return f"{rate:.0f} trials/s"  # never 1.8e+03
        return f"{rate:.3g} trials/s" if rate >= 1 else f"{1 / rate:.3g} s/trial"

    def status_text(self) -> str:
        """The rate, the best so far and the counts, as both the bar and the lines show them."""
        return f"{self.rate_text()}, {self.best_text()}, {self.counts_text()}"

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
        return f"{self.title} [{done}{of} {self.clock_text()}]"

    def _bar_format(self) -> str:
        if self.total is None and self.timeout is None:
            return "{desc}: {info}"
        return "{desc}: {percentage:3.0f}%|{bar}| {info}"

    def _draw(self) -> None:
        bar = self._bar
        done = len(self.history)
        of = f"/{self.total}" if self.total is not None else ""
        if not self._notebook:
            bar.ncols = _width()  # the terminal's, as it is now
        bar.n = round((self.fraction() or 0.0) * _PERMILLE)
        bar.info = f"{done}{of} [{self.clock_text()}] {self.status_text()}"
        bar.refresh()
        self._drawn_at = time.monotonic()

    def _tick(self) -> None:
        while not self._stop.wait(self.refresh):
            with self._lock:
                if not self._closed:
                    self._draw()

    def _say(self, text: str) -> None:
        if self._given_stream is not None:
            self._given_stream.write(text + "\n")
            self._given_stream.flush()
        else:
            logger.info(text)

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
