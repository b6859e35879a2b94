"""One watched run: what was read of its store so far, its rows, status and cached plots.

A single poller thread refreshes every watched run: each refresh reads only what was appended
to the store since the last (`byop.history.StoreFollower`), turns the new reports into table
rows (serialised once, whatever the number of clients) and bumps the run's ``version``, which
wakes the clients that follow it. Plots are made on request, at most once per version, and no
more often than their cost allows: a plot that took ``t`` seconds is made again after at least
``4 t`` (and one) seconds; until then clients get the last one, and are told when to ask again.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from byop.dashboard._rows import details, row, status
from byop.history import History, StoredRun, StoreFollower, summary
from byop.optimization import Report

ROWS_PER_MESSAGE = 1000
MIN_PLOT_INTERVAL = 1.0
PLOT_COST_FACTOR = 4.0
STATUS_INTERVAL = 2.0  # seconds between checks of a run whose store did not change

# One plot is made at a time, whatever the run: plotting is Python-bound (the GIL gives two
# threads no more speed), and plotly's lazily loaded modules are not made for racing threads.
_PLOTTING = threading.Lock()


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


def load_plotting() -> None:
    """Import plotly and numpy now, in this thread, rather than in the first request's."""
    import numpy  # noqa: F401
    import plotly.graph_objects
    import plotly.subplots  # noqa: F401

    import byop.visualization  # noqa: F401


def _plotters() -> dict[str, Callable[..., Any]]:
    from byop import visualization as v

    return {
        "history": lambda run, space: v.plot_optimization_history(run),
        "parallel": lambda run, space: v.plot_parallel_coordinates(run, space=space),
        "importance": lambda run, space: v.plot_importance(run, space=space),
        "slice": lambda run, space: v.plot_slice(run, space=space),
        "pareto": lambda run, space: v.plot_pareto_front(run),
    }


PLOT_KINDS = ("history", "parallel", "importance", "slice", "pareto")
"""The plots a run's page shows, in order."""


@frozen
class _Plot:
    version: int
    made: float  # time.monotonic() when it was made
    cost: float  # seconds it took
    figure: bytes  # the figure's JSON, or an error's


class RunWatch:
    """A run store being followed for the dashboard.

    Args:
        number: The run's number on the dashboard (its place in the list of stores).
        path: The store's file.
    """

    def __init__(self, number: int, path: Path) -> None:
        self.number = number
        self.path = path
        self.follower = StoreFollower(path)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.epoch = 0
        self.closing = False
        self._reports: list[Report[Any]] = []
        self._rows: list[bytes] = []
        self._history = History()
        self._status: dict[str, Any] = {}
        self._status_json = b"{}"
        self._read_error: str | None = None
        self._status_made = 0.0
        self._plots: dict[str, _Plot] = {}
        self._plot_locks = {kind: threading.Lock() for kind in PLOT_KINDS}

    # ------------------------------------------------------------------ refreshing
    def refresh(self) -> bool:
        """Read what was appended to the store; returns whether anything changed."""
        try:
            update = self.follower.poll()
            read_error = None
        except OSError as e:
            update, read_error = None, f"cannot read {self.path}: {e.strerror or e}"
        run = self.follower.run
        with self.lock:
            reset = update is not None and update.reset
            if reset:
                self.epoch += 1
                self._reports, self._rows = [], []
                self._history = History()
            if run is not None and len(self._history) == 0 and not self._reports:
                self._history = History(metrics=run.header.metrics)
            new = update.reports if update is not None else ()
            for report in new:
                self._rows.append(_dumps(row(len(self._reports), report)))
                self._reports.append(report)
                self._history.add(report)
            changed = reset or (update is not None and update.changed)
            changed = changed or read_error != self._read_error
            self._read_error = read_error
            now = time.monotonic()
            if not changed and now - self._status_made < STATUS_INTERVAL:
                return False
            # Unchanged records, but the state may not be (the writer may have died).
            state = self._state(run, read_error)
            self._status_made = now
            if changed or _without_now(state) != _without_now(self._status):
                self._status = state
                self._status_json = _dumps(state)
                self.version += 1
                self.changed.notify_all()
                return True
            return False

    def _state(self, run: StoredRun | None, read_error: str | None) -> dict[str, Any]:
        error = read_error or self.follower.error
        out = status(run, self._history, error=error, pending=self.follower.pending_bytes)
        out.update({"number": self.number, "name": self.path.name, "path": str(self.path)})
        if run is not None:
            out["summary"] = summary(self._history)
        return out

    def close(self) -> None:
        """Wake every client that waits on this run, for the server to stop."""
        with self.lock:
            self.closing = True
            self.changed.notify_all()

    # ------------------------------------------------------------------ reading
    def status_json(self) -> bytes:
        """The run's status, as JSON."""
        with self.lock:
            return self._status_json

    def message(self, epoch: int, since: int) -> tuple[int, int, bytes, bool]:
        """The rows after the first ``since`` (all, if ``epoch`` is not the run's) and status.

        Returns:
            The run's epoch, how many rows the client has after this message, the message,
            and whether more rows are left for the next message.
        """
        with self.lock:
            if epoch != self.epoch or since > len(self._rows) or since < 0:
                since = 0
            rows = self._rows[since : since + ROWS_PER_MESSAGE]
            head = (
                f'{{"epoch":{self.epoch},"version":{self.version},"start":{since},'
                f'"total":{len(self._rows)},"status":'
            ).encode()
            body = head + self._status_json + b',"rows":[' + b",".join(rows) + b"]}"
            return self.epoch, since + len(rows), body, since + len(rows) < len(self._rows)

    def trial(self, number: int) -> bytes | None:
        """Everything about the ``number``-th trial to report, as JSON (``None``: no such)."""
        with self.lock:
            if not 0 <= number < len(self._reports):
                return None
            report = self._reports[number]
        return _dumps(details(number, report))

    def wait(self, version: int, timeout: float) -> int:
        """Wait until the run's version is not ``version`` (or ``timeout``); the version."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != version or self.closing, timeout)
            return self.version

    # ------------------------------------------------------------------ plots
    def plot(self, kind: str) -> bytes:
        """The plot ``kind`` as JSON: ``{"version", "latest", "retry", "figure" | "error"}``.

        Raises:
            KeyError: ``kind`` is not one of `PLOT_KINDS`.
        """
        lock = self._plot_locks[kind]
        with lock:
            with self.lock:
                version = self.version
                run = self.follower.run
                header = run.header if run is not None else None
                reports = list(self._reports)
            cached = self._plots.get(kind)
            now = time.monotonic()
            fresh = cached is not None and cached.version == version
            wait = 0.0
            if cached is not None and not fresh:
                wait = cached.made + max(MIN_PLOT_INTERVAL, PLOT_COST_FACTOR * cached.cost) - now
            if cached is None or (not fresh and wait <= 0):
                with _PLOTTING:
                    cached = self._make(kind, version, header, reports)
                self._plots[kind] = cached
                wait = 0.0
        retry = round(wait, 2) if cached.version != version else None
        head = f'{{"version":{cached.version},"latest":{version},"retry":{_dumps(retry).decode()},'
        return head.encode() + cached.figure + b"}"

    def _make(self, kind: str, version: int, header: Any, reports: list[Report[Any]]) -> _Plot:
        start = time.monotonic()
        if header is None:
            body = b'"error":' + _dumps("the store cannot be read (yet): nothing to plot")
        else:
            space = header.space
            if not (isinstance(space, Mapping) and space.get("type") == "Space"):
                space = None
            snapshot = StoredRun(path=self.path, header=header, reports=reports)
            try:
                figure = _plotters()[kind](snapshot, space)
                body = b'"figure":' + figure.to_json().encode("utf-8")
            except Exception as e:
                print(f"byop dashboard: the {kind} plot of {self.path} failed:", file=sys.stderr)
                traceback.print_exc()
                body = b'"error":' + _dumps(f"this plot failed: {type(e).__name__}: {e}")
        return _Plot(version, time.monotonic(), time.monotonic() - start, body)


def _without_now(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "now"}
