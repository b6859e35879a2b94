"""A run summed up in a few lines of text: counts by status, the best trial and its config."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from byop.history._errors import NoBestTrialError
from byop.history._history import History
from byop.history._pareto import describe_front
from byop.optimization import Metric, Report, ReportStatus, exception_key


def format_duration(seconds: float) -> str:
    """``seconds`` as ``H:MM:SS`` (or ``M:SS.s`` under a minute).

    Example:
        ```python
        from byop.history import format_duration

        assert format_duration(3.25) == "0:03.2"
        assert format_duration(3725) == "1:02:05"
        ```
    """
    if not math.isfinite(seconds) or seconds < 0:
        return "-"
    if round(seconds, 1) < 60:  # 59.96 s is 0:01:00, not 0:60.0
        return f"0:{seconds:04.1f}"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_value(value: Any) -> str:
    """A result or hyperparameter value, short: floats to 6 significant digits."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _exception_counts(reports: Iterable[Report[Any]]) -> str:
    counts = Counter(  # short names: "WallTimeLimitExceeded", not its module's path
        key[0].rsplit(".", 1)[-1]
        for key in (exception_key(r.exception) for r in reports)
        if key is not None
    )
    return ", ".join(f"{name} x{n}" for name, n in counts.most_common(3)) + (
        ", ..." if len(counts) > 3 else ""
    )


def summary(
    history: History,
    *,
    metric: Metric | str | None = None,
    title: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> str:
    """A few lines on a run: counts by status, the best trial and its configuration.

    Failed and crashed counts name their commonest exceptions; ``details`` (e.g. the store's
    path) are added at the end. With several metrics and no ``metric``, the Pareto front (its
    size and members, see `describe_front`) stands in for the best trial.

    Example:
        ```python
        from byop.history import History, summary
        from byop.optimization import Trial

        history = History([Trial("a", {"x": 2.0}).success(cost=4.0), Trial("b", {}).fail()])
        text = summary(history, title="demo")
        assert "success" in text and "best  a  cost = 4" in text
        ```
    """
    lines = [title] if title else []
    counts = history.counts()
    width = max(len(s.value) for s in ReportStatus)
    lines.append(f"  {'status'.ljust(width)}  trials")
    for status, n in counts.items():
        if status is ReportStatus.PRUNED and not n:
            continue  # shown only in runs that stop trials early
        row = f"  {status.value.ljust(width)}  {n:>6}"
        if status is not ReportStatus.SUCCESS and n:
            errors = _exception_counts(history.filter(status))
            if errors:
                row += f"   {errors}"
        lines.append(row)
    lines.append(f"  {'total'.ljust(width)}  {len(history):>6}")
    if metric is None and len(history.metrics) > 1:
        front = history.pareto_front()
        lines.extend("  " + line for line in describe_front(front, history.metrics))
        for key, value in (details or {}).items():
            lines.append(f"  {key}  {value}")
        return "\n".join(lines)
    chosen = history.metric(metric)
    try:
        best = history.best(chosen)
    except NoBestTrialError:
        lines.append(f"  best  none: no successful trial reported {chosen.name!r}")
    else:
        lines.append(
            f"  best  {best.trial.name}  {chosen.name} = {format_value(best[chosen.name])}"
        )
        for key, value in best.trial.config.items():
            lines.append(f"        {key} = {format_value(value)}")
    for key, value in (details or {}).items():
        lines.append(f"  {key}  {value}")
    return "\n".join(lines)
