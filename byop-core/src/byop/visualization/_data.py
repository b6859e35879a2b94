"""What every plot needs from a run: its history, its hyperparameters, and safe labels."""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

from attrs import frozen

from byop.history import History, StoredRun, read_store
from byop.optimization import Metric, Report, ReportStatus
from byop.serialization import typed_plain

RunLike: TypeAlias = "History | StoredRun | str | os.PathLike[str]"
"""What the plots take: a `History`, a `StoredRun`, or the path of a run store."""

INACTIVE = "inactive"
"""How a hyperparameter that a trial's configuration does not have is labelled."""

Kind: TypeAlias = Literal["float", "int", "categorical", "constant"]


@frozen
class Param:
    """One hyperparameter as the plots see it."""

    name: str
    kind: Kind
    lower: float | None = None
    upper: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def numeric(self) -> bool:
        """Whether its values are numbers on an axis (floats and integers)."""
        return self.kind in ("float", "int")


@frozen
class Run:
    """A run, resolved for plotting."""

    history: History
    params: tuple[Param, ...]
    name: str | None = None


def resolve(run: RunLike, space: Any = None) -> Run:
    """The history and hyperparameters of ``run``, the space's from ``space`` or the store's.

    Raises:
        TypeError: ``run`` is none of the accepted kinds.
    """
    name: str | None = None
    described: Any = None
    if isinstance(run, History):
        history = run
    elif isinstance(run, StoredRun):
        history, described, name = run.history, run.header.space, run.path.name
    elif isinstance(run, str | os.PathLike):
        stored = read_store(Path(run))
        history, described, name = stored.history, stored.header.space, stored.path.name
    else:
        raise TypeError(
            "Plots take a History, a StoredRun (read_store(path)) or the path of a run store, "
            f"got {type(run).__name__}."
        )
    if space is not None:
        described = space_description(space)
    return Run(history=history, params=params_of(described, history), name=name)


def space_description(space: Any) -> Any:
    """``space`` described as plain data (a `Space`, a dict of ranges, or a description)."""
    if isinstance(space, Mapping) and space.get("type") == "Space":
        return space
    from byop.pipeline import Space

    if not isinstance(space, Space):
        space = Space.from_dict(space)
    return typed_plain(space)


def params_of(described: Any, history: History) -> tuple[Param, ...]:
    """The space's hyperparameters, then any other key the configurations have (inferred)."""
    params: dict[str, Param] = {}
    if isinstance(described, Mapping):
        for item in described.get("hyperparameters") or ():
            param = _described_param(item)
            if param is not None and param.name not in params:
                params[param.name] = param
    seen: dict[str, list[Any]] = {}
    for report in history:
        for key, value in report.trial.config.items():
            if key not in params:
                seen.setdefault(str(key), []).append(value)
    for key, values in seen.items():
        params[key] = _inferred_param(key, values)
    return tuple(params.values())


def choose(
    params: Sequence[Param], names: Sequence[str] | None, *, constants: bool = False
) -> list[Param]:
    """The parameters named, or all of them (constants too if asked).

    A constant that some configurations lack still varies (active or not), so the plots that
    show inactive values ask for constants too.

    Raises:
        KeyError: A name is not a parameter of the run.
    """
    if names is None:
        return [p for p in params if constants or p.kind != "constant"]
    if isinstance(names, str):
        names = [names]
    index = {p.name: p for p in params}
    missing = [n for n in names if n not in index]
    if missing:
        raise KeyError(f"No hyperparameter {missing[0]!r} in this run; it has {sorted(index)}.")
    return [index[n] for n in names]


def _described_param(item: Any) -> Param | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
        return None
    kind = item.get("type")
    name = item["name"]
    if kind in ("Float", "Integer"):
        lower: Any = item.get("lower")
        upper: Any = item.get("upper")
        if not (_is_number(lower) and _is_number(upper)):
            return None
        low, high = float(lower), float(upper)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            return None
        kind_of: Kind = "float" if kind == "Float" else "int"
        return Param(name, kind_of, low, high, log=bool(item.get("log")) and low > 0)
    if kind == "Categorical" and isinstance(item.get("choices"), list | tuple):
        return Param(name, "categorical", choices=tuple(item["choices"]))
    if kind == "Constant":
        return Param(name, "constant", choices=(item.get("value"),))
    return None


def _inferred_param(name: str, values: Sequence[Any]) -> Param:
    if values and all(_is_number(v) for v in values):
        finite = [float(v) for v in values if math.isfinite(v)]
        if finite and min(finite) < max(finite):
            kind: Kind = "int" if all(isinstance(v, int) for v in values) else "float"
            low, high = min(finite), max(finite)
            log = low > 0 and high / low > 100
            return Param(name, kind, low, high, log=log)
    choices: dict[str, Any] = {}
    for value in values:
        choices.setdefault(value_key(value), value)
    if len(choices) == 1:
        return Param(name, "constant", choices=tuple(choices.values()))
    return Param(name, "categorical", choices=tuple(choices.values()))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def value_key(value: Any) -> str:
    """A key equal for equal values of any JSON-like type (``1`` and ``True`` differ)."""
    return f"{type(value).__name__}:{json.dumps(value, sort_keys=True, default=repr)}"


# ---------------------------------------------------------------------- values
def metric_of(history: History, metric: Metric | str | None) -> Metric:
    """The metric named, one the history declares, or its first."""
    return history.metric(metric)


def value_of(report: Report[Any], metric: Metric) -> float | None:
    """The report's finite value of ``metric``, if it succeeded with one."""
    if report.status is not ReportStatus.SUCCESS:
        return None
    raw: Any = report.results.get(metric.name)
    if not _is_number(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def numeric_position(param: Param, value: Any) -> float | None:
    """Where a number lies on the parameter's axis (log10 on a log scale), if it is one."""
    if not _is_number(value) or not math.isfinite(value):
        return None
    if param.log:
        return math.log10(value) if value > 0 else None
    return float(value)


def category_index(param: Param, value: Any) -> int | None:
    """The index of ``value`` among the parameter's choices, if it is one of them."""
    key = value_key(value)
    for index, choice in enumerate(param.choices):
        if value_key(choice) == key:
            return index
    return None


def with_seen_choices(param: Param, values: Iterable[Any]) -> Param:
    """A categorical parameter with any value the trials took that its choices lack."""
    if param.kind != "categorical":
        return param
    known = {value_key(c) for c in param.choices}
    extra: dict[str, Any] = {}
    for value in values:
        key = value_key(value)
        if key not in known:
            extra.setdefault(key, value)
    if not extra:
        return param
    return Param(param.name, "categorical", choices=param.choices + tuple(extra.values()))


# ---------------------------------------------------------------------- labels
MAX_LABEL = 80


def short(value: Any, limit: int = MAX_LABEL) -> str:
    """``value`` as short, plain text: floats to 6 significant digits, on one line."""
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, default=repr) if isinstance(value, list | dict) else str(value)
    text = " ".join(text[:10_000].split())
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text


def label(value: Any, limit: int = MAX_LABEL) -> str:
    """``value`` as text that plotly shows as written: short, and with HTML escaped.

    Plotly renders a few HTML tags in titles, axis labels and hover text, so a value such as
    ``<b>x</b>`` would show in bold, and ``<br>`` would break the line: escaped, it shows as
    typed. (The tick labels of parallel coordinates are plain text: they take `short`.)
    """
    return html.escape(short(value, limit), quote=False)


def hover(report: Report[Any], metric: Metric | None = None, *, max_keys: int = 12) -> str:
    """Hover text for a trial: its name, status, metric value and configuration (escaped)."""
    lines = [f"<b>{label(report.trial.name)}</b> ({report.status.value})"]
    if metric is not None and metric.name in report.results:
        lines.append(f"{label(metric.name)} = {label(report.results[metric.name])}")
    config = list(report.trial.config.items())
    for key, value in config[:max_keys]:
        lines.append(f"{label(key, 40)} = {label(value, 40)}")
    if len(config) > max_keys:
        lines.append(f"... {len(config) - max_keys} more")
    if report.exception is not None:
        lines.append(label(exception_text(report.exception), 120))
    return "<br>".join(lines)


def exception_text(exc: BaseException) -> str:
    """``Type: message`` of an exception, a stored one (`ForeignException`) included."""
    from byop.optimization import ForeignException

    if isinstance(exc, ForeignException):
        return str(exc)
    module = type(exc).__module__
    name = type(exc).__qualname__ if module == "builtins" else f"{module}.{type(exc).__qualname__}"
    message = str(exc)
    return f"{name}: {message}" if message else name


def direction(metric: Metric) -> str:
    """``"lower is better"`` or ``"higher is better"``."""
    return "lower is better" if metric.minimize else "higher is better"
