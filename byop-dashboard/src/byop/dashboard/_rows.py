"""What the dashboard sends about a run: JSON-safe rows, trial details, and the run's status."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from typing import Any

from byop.history import History, StoredRun, format_duration
from byop.optimization import ForeignException, Metric, Report

MAX_TEXT = 300  # characters of a value in a table row
MAX_ITEMS = 20  # items of a list or mapping in a table row
MAX_DETAIL = 100_000  # characters of a value in a trial's details


def jsonable(value: Any, *, text: int = MAX_TEXT, items: int = MAX_ITEMS, depth: int = 4) -> Any:
    """``value`` as plain JSON data: strings cut to ``text``, containers to ``items``.

    Numbers that JSON cannot hold (``nan``, ``inf``) become the strings ``"nan"``, ``"inf"``
    and ``"-inf"``; anything that is not JSON data becomes its ``repr``.

    Example:
        ```python
        from byop.dashboard._rows import jsonable

        assert jsonable({"a": float("inf"), 1: (1, 2)}) == {"a": "inf", "1": [1, 2]}
        ```
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return value if len(value) <= text else value[: text - 1] + "\u2026"
    if depth <= 0:
        return jsonable(repr(value), text=text)
    if isinstance(value, Mapping):
        pairs = list(value.items())
        out = {
            str(k): jsonable(v, text=text, items=items, depth=depth - 1) for k, v in pairs[:items]
        }
        if len(pairs) > items:
            out["\u2026"] = f"{len(pairs) - items} more"
        return out
    if isinstance(value, list | tuple):
        cut = [jsonable(v, text=text, items=items, depth=depth - 1) for v in value[:items]]
        if len(value) > items:
            cut.append(f"\u2026 {len(value) - items} more")
        return cut
    return jsonable(repr(value), text=text)


def exception_text(exc: BaseException | None) -> str | None:
    """``Type: message`` of a report's exception (a stored one is a `ForeignException`)."""
    if exc is None:
        return None
    if isinstance(exc, ForeignException):
        return str(exc)
    module = type(exc).__module__
    name = type(exc).__qualname__ if module == "builtins" else f"{module}.{type(exc).__qualname__}"
    message = str(exc)
    return f"{name}: {message}" if message else name


def row(number: int, report: Report[Any]) -> dict[str, Any]:
    """One trial as a row of the trials table."""
    return {
        "n": number,
        "name": jsonable(report.trial.name),
        "status": report.status.value,
        "results": jsonable(dict(report.results)),
        "config": jsonable(dict(report.trial.config)),
        "start": jsonable(report.time.start),
        "end": jsonable(report.time.end),
        "duration": jsonable(report.time.duration),
        "cpu": jsonable(report.cpu_time.duration),
        "exception": jsonable(exception_text(report.exception)),
    }


def details(number: int, report: Report[Any]) -> dict[str, Any]:
    """Everything about one trial, for its details panel."""
    big = {"text": MAX_DETAIL, "items": 1000, "depth": 8}
    return {
        "n": number,
        "name": jsonable(report.trial.name, text=MAX_DETAIL),
        "status": report.status.value,
        "seed": jsonable(report.trial.seed),
        "budget": jsonable(report.trial.budget),
        "config": jsonable(dict(report.trial.config), **big),
        "results": jsonable(dict(report.results), **big),
        "start": jsonable(report.time.start),
        "end": jsonable(report.time.end),
        "duration": jsonable(report.time.duration),
        "cpu": jsonable(report.cpu_time.duration),
        "exception": jsonable(exception_text(report.exception), text=MAX_DETAIL),
        "traceback": jsonable(report.traceback, text=MAX_DETAIL),
    }


def _alive(pid: int | None) -> bool | None:
    """Whether a process with this id runs on this machine (``None``: cannot tell)."""
    if pid is None or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return None
    return True


def _metric(metric: Metric) -> dict[str, Any]:
    return {"name": jsonable(metric.name), "minimize": metric.minimize}


def status(
    run: StoredRun | None, history: History, *, error: str | None, pending: int
) -> dict[str, Any]:
    """The run's state, budget, counts, best trial and problems, for the page's top."""
    counts = {s.value: n for s, n in history.counts().items()}
    out: dict[str, Any] = {"counts": counts, "trials": len(history), "error": jsonable(error)}
    if run is None:
        out["state"] = "waiting" if error and error.startswith("No run store") else "unreadable"
        return out
    header = run.header
    sessions = run.sessions
    last = sessions[-1] if sessions else None
    if last is None:
        state, note = "unknown", "no session record"
    elif last.ended is not None:
        state, note = "finished", f"ended: {last.exit_status}"
    else:
        alive = _alive(last.pid)
        if alive:
            state, note = "running", f"writer pid {last.pid} is running on this machine"
        elif alive is False:
            state, note = (
                "stopped",
                "its last session wrote no end record and its process is gone: it was killed "
                "or crashed (resume it to go on)",
            )
        else:
            state, note = "unknown", "its last session wrote no end record"
    in_flight = run.in_flight
    best: dict[str, Any] | None = None
    metric = history.metric()
    try:
        report = history.best(metric)
    except LookupError:
        report = None
    if report is not None:
        best = {
            "name": jsonable(report.trial.name),
            "metric": jsonable(metric.name),
            "value": jsonable(report.results.get(metric.name)),
            "config": jsonable(dict(report.trial.config)),
        }
    budget = header.limits
    used = run.time_used
    out.update(
        {
            "state": state,
            "note": note,
            "optimizer": jsonable(header.optimizer),
            "seed": jsonable(header.seed),
            "objective": jsonable(header.objective),
            "metrics": [_metric(m) for m in header.metrics],
            "created": jsonable(header.created),
            "byop_version": jsonable(header.byop_version),
            "max_trials": jsonable(budget.max_trials),
            "timeout": jsonable(budget.timeout),
            "time_used": jsonable(used),
            "time_used_text": format_duration(used),
            "timeout_text": None if budget.timeout is None else format_duration(budget.timeout),
            "sessions": len(sessions),
            "last_record": jsonable(last.last_record) if last is not None else None,
            "in_flight": len(in_flight),
            "in_flight_names": [jsonable(t.name) for t in in_flight[:10]],
            "best": best,
            "problems": [jsonable(p) for p in run.problems[-20:]],
            "problem_count": len(run.problems),
            "pending_bytes": pending,
            "now": time.time(),
        }
    )
    return out
