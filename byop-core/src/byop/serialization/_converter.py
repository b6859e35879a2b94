"""One cattrs converter for everything byop stores or sends as JSON.

Trials and reports become plain JSON data: exceptions as their type's name, message and
formatted traceback; ``trial.info`` tagged with its type's name. Reading never imports or runs
anything named in the data: only built-in exception types and types registered with
`register_type` come back as themselves; anything else comes back as data (a
`ForeignException`, or the info's dictionary).
"""

from __future__ import annotations

import builtins
import dataclasses
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
import cattrs

from byop.optimization import (
    ForeignException,
    MFTrialInfo,
    Report,
    ReportStatus,
    RSTrialInfo,
    TimeInterval,
    TimeKind,
    Trial,
    qualified_name,
)
from byop.serialization._json import from_json, to_json

T = TypeVar("T")

_lock = threading.Lock()
_types: dict[str, type[Any]] = {}
_names: dict[type[Any], str] = {}
_converter: cattrs.Converter | None = None


class SerializationError(ValueError):
    """Data could not be read as a byop object; the message says what was wrong where."""


def register_type(cls: type[T], name: str | None = None) -> type[T]:
    """Allow ``cls`` (an attrs class or dataclass, or an exception type) to be restored by name.

    Optimizer plugins register the type they keep in ``trial.info``; libraries register their
    exception types. Usable as a decorator.

    Example:
        ```python
        from attrs import frozen
        from byop.serialization import register_type

        @register_type
        @frozen
        class MyInfo:
            step: int
        ```
    """
    key = name or f"{cls.__module__}.{cls.__qualname__}"
    with _lock:
        _types[key] = cls
        _names[cls] = key
    return cls


def _type_name(cls: type[Any]) -> str:
    registered = _names.get(cls)
    if registered is not None:
        return registered
    if issubclass(cls, BaseException):
        return qualified_name(cls)
    return f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------------- plain values
def plain(value: Any) -> Any:
    """``value`` as JSON-compatible data: numpy scalars and arrays, tuples, mappings, attrs."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return plain(item())  # numpy scalar
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return plain(tolist())  # numpy array
    if attrs.has(type(value)):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return repr(value)


# ---------------------------------------------------------------------- exceptions
def unstructure_exception(exc: BaseException | None) -> dict[str, Any] | None:
    """An exception as ``{"type", "message"}``."""
    if exc is None:
        return None
    if isinstance(exc, ForeignException):
        return {"type": exc.type_name, "message": exc.message}
    return {"type": _type_name(type(exc)), "message": str(exc)}


def structure_exception(data: Mapping[str, Any] | None) -> BaseException | None:
    """The exception back: itself for built-in and registered types, else a `ForeignException`."""
    if data is None:
        return None
    type_name = str(data.get("type", "Exception"))
    message = str(data.get("message", ""))
    cls = _types.get(type_name)
    if cls is None and "." not in type_name:
        candidate = getattr(builtins, type_name, None)
        if isinstance(candidate, type) and issubclass(candidate, BaseException):
            cls = candidate
    if cls is not None and issubclass(cls, BaseException):
        try:
            exc = cls(message)
        except Exception:
            return ForeignException(type_name, message)
        if str(exc) == message:
            return exc
    return ForeignException(type_name, message)


# ---------------------------------------------------------------------- info
def unstructure_info(info: Any) -> Any:
    """``trial.info`` tagged with its type's name."""
    if info is None:
        return None
    return {"type": _type_name(type(info)), "data": plain(info)}


def structure_info(data: Any) -> Any:
    """``trial.info`` back, as its type when registered, else as the stored data."""
    if data is None:
        return None
    if not isinstance(data, Mapping) or "type" not in data:
        return data
    cls = _types.get(str(data["type"]))
    if cls is None:
        return dict(data)
    try:
        return converter().structure(data["data"], cls)
    except Exception:
        return dict(data)


# ---------------------------------------------------------------------- trials and reports
def _unstructure_time(t: TimeInterval) -> dict[str, Any]:
    return {"start": t.start, "end": t.end, "duration": t.duration, "kind": t.kind.value}


def _structure_time(data: Mapping[str, Any], _: Any = None) -> TimeInterval:
    return TimeInterval(
        start=float(data["start"]),
        end=float(data["end"]),
        duration=float(data["duration"]),
        kind=TimeKind(data.get("kind", "wall")),
    )


def _unstructure_trial(trial: Trial[Any]) -> dict[str, Any]:
    return {
        "name": trial.name,
        "config": plain(trial.config),
        "info": unstructure_info(trial.info),
        "seed": trial.seed,
        "budget": trial.budget,
        "fidelities": dict(trial.fidelities) or None,
    }


def _structure_trial(data: Mapping[str, Any], _: Any = None) -> Trial[Any]:
    budget = data.get("budget")
    return Trial(
        name=str(data["name"]),
        config=dict(data["config"]),
        info=structure_info(data.get("info")),
        seed=data.get("seed"),
        budget=None if budget is None else budget,
        fidelities=dict(data.get("fidelities") or {}),
    )


def _unstructure_report(report: Report[Any]) -> dict[str, Any]:
    return {
        "status": report.status.value,
        "trial": _unstructure_trial(report.trial),
        "results": plain(report.results),
        "time": _unstructure_time(report.time),
        "cpu_time": _unstructure_time(report.cpu_time),
        "exception": unstructure_exception(report.exception),
        "traceback": report.traceback,
    }


def _structure_report(data: Mapping[str, Any], _: Any = None) -> Report[Any]:
    trial = _structure_trial(data["trial"])
    return trial.end(
        ReportStatus(data["status"]),
        structure_exception(data.get("exception")),
        data.get("traceback"),
        results=data.get("results") or {},
        times=(_structure_time(data["time"]), _structure_time(data["cpu_time"])),
    )


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(TimeInterval, _unstructure_time)
    conv.register_structure_hook(TimeInterval, _structure_time)
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Trial), _unstructure_trial
    )
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Trial), _structure_trial
    )
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Report), _unstructure_report
    )
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Report), _structure_report
    )
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, BaseException), unstructure_exception
    )
    return conv


def converter() -> cattrs.Converter:
    """The converter (built once)."""
    global _converter  # noqa: PLW0603
    if _converter is None:
        with _lock:
            if _converter is None:
                _converter = _make_converter()
    return _converter


def unstructure(obj: Any) -> Any:
    """``obj`` (a trial, a report, a time interval...) as JSON-compatible data."""
    return converter().unstructure(obj)


def structure(data: Any, cls: type[T]) -> T:
    """``data`` read back as ``cls``.

    Raises:
        SerializationError: The data is not a valid ``cls``.
    """
    try:
        return converter().structure(data, cls)
    except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as e:
        raise SerializationError(
            f"Could not read {cls.__name__} from {_preview(data)}: {type(e).__name__}: {e}"
        ) from e


def _preview(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 120 else text[:117] + "..."


def _json_default(value: Any) -> Any:
    return plain(value)


def dumps(obj: Any) -> str:
    """``obj`` as one line of valid JSON (non-finite floats as ``{"$numberDouble": "NaN"}``...).

    See `to_json`.
    """
    return to_json(unstructure(obj), default=_json_default, separators=(",", ":"))


def loads(text: str | bytes, cls: type[T]) -> T:
    """Read ``cls`` from JSON written by `dumps`.

    Raises:
        SerializationError: The text is not JSON, or not a valid ``cls``.
    """
    try:
        data = from_json(text)
    except ValueError as e:
        raise SerializationError(f"Not valid JSON: {e}") from e
    return structure(data, cls)


register_type(RSTrialInfo, "byop.optimization.RSTrialInfo")
register_type(MFTrialInfo, "byop.optimization.MFTrialInfo")
