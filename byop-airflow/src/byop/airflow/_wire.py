"""What crosses between byop and Airflow: a call as a DAG run's ``conf``, an outcome as XCom.

Both ways are JSON through byop's converter, never pickle. A call names its function by its
import path (``package.module:function``), which Airflow's workers import; a trial travels as
`byop.serialization.unstructure` makes it, and comes back as a `ReportPayload` whose exception is
its type's name and message. Only Python's built-in exception types, types registered with
`byop.serialization.register_type`, and byop's own scheduling exceptions (listed here) come back as
themselves; anything else comes back as a `ForeignException`.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from attrs import frozen

from byop.optimization import (
    ForeignException,
    InvalidReportError,
    NoReportError,
    ReportPayload,
    Trial,
    qualified_name,
)
from byop.scheduling import (
    Call,
    CallCancelledError,
    CPUTimeLimitExceeded,
    Limits,
    MemoryLimitExceeded,
    NotPicklableError,
    TrialRunner,
    WallTimeLimitExceeded,
    WorkerDiedError,
    function_label,
)
from byop.serialization import plain, structure, structure_exception, unstructure

FORMAT = 1
"""The version of the format; a worker refuses a call of a format it does not know."""

CONF_KEY = "byop"
"""The key of the DAG run's ``conf`` that holds the call."""

# byop's own exceptions, by their public names: they come back as themselves.
_KNOWN: dict[str, type[BaseException]] = {
    "byop.scheduling.WorkerDiedError": WorkerDiedError,
    "byop.scheduling.CallCancelledError": CallCancelledError,
    "byop.scheduling.NotPicklableError": NotPicklableError,
    "byop.scheduling.MemoryLimitExceeded": MemoryLimitExceeded,
    "byop.scheduling.CPUTimeLimitExceeded": CPUTimeLimitExceeded,
    "byop.scheduling.WallTimeLimitExceeded": WallTimeLimitExceeded,
    "byop.optimization.NoReportError": NoReportError,
    "byop.optimization.InvalidReportError": InvalidReportError,
}


class NotImportableError(NotPicklableError):
    """A call's function cannot be imported by name on Airflow's workers.

    Airflow's workers import the function a DAG run names: it must be a module-level function of
    a module that both this machine and the workers can import (not ``__main__``, a lambda or a
    function defined inside another one).
    """


class NotJSONError(NotPicklableError):
    """A call's arguments or trial cannot travel as JSON (the only thing a DAG run carries)."""


_KNOWN["byop.airflow.NotImportableError"] = NotImportableError
_KNOWN["byop.airflow.NotJSONError"] = NotJSONError
_PUBLIC_NAMES = {cls: name for name, cls in _KNOWN.items()}


# ---------------------------------------------------------------------- functions by name
def function_path(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of a module-level function, which Airflow's workers import.

    Raises:
        NotImportableError: ``fn`` cannot be imported by that name.
    """
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    label = function_label(fn)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise NotImportableError(
            f"{label} has no module-level name that Airflow's workers could import: pass a "
            "function defined at the top of a module (not a callable object or a partial)."
        )
    if module == "__main__":
        raise NotImportableError(
            f"{label} is defined in __main__ (your script or notebook), which Airflow's workers "
            "cannot import: Airflow runs a function by its import path. Move it into a module "
            "(say objectives.py) that this machine and Airflow's workers both import (install "
            "it in Airflow's environment, or put it in Airflow's dags folder), and import it "
            "from there."
        )
    if "<" in qualname:
        raise NotImportableError(
            f"{label} is a lambda or is defined inside another function, so Airflow's workers "
            "cannot import it by name: define it at the top level of a module."
        )
    try:
        found = resolve(module, qualname)
    except (ImportError, AttributeError) as e:
        raise NotImportableError(
            f"{label} cannot be imported as {module}:{qualname} ({type(e).__name__}: {e}); "
            "Airflow's workers import it by that name."
        ) from e
    if found is not fn and getattr(found, "__wrapped__", None) is not fn:
        raise NotImportableError(
            f"{module}:{qualname} names another object than {label} (a decorator that does "
            "not keep the function's name, or a bound method?): pass a module-level function."
        )
    return f"{module}:{qualname}"


def resolve(module: str, qualname: str) -> Any:
    """The object ``qualname`` of ``module``, importing the module."""
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


# ---------------------------------------------------------------------- JSON values
def check_json(value: Any, where: str, *, finite: bool = True) -> Any:
    """``value`` as JSON data (tuples become lists), or `NotJSONError` naming the culprit.

    With ``finite``, ``NaN`` and infinities are refused too (a DAG run's conf is strict JSON).
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if finite and not math.isfinite(value):
            raise NotJSONError(f"{where} is {value!r}, which a DAG run's conf (JSON) cannot carry.")
        return value
    if isinstance(value, list | tuple):
        return [check_json(v, f"{where}[{i}]", finite=finite) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise NotJSONError(f"{where} has the key {k!r}: JSON keys are strings.")
            out[k] = check_json(v, f"{where}[{k!r}]", finite=finite)
        return out
    raise NotJSONError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}: what travels "
        "between byop and Airflow is JSON only (None, bool, int, float, str, and lists and "
        "dicts of them). Use plain data, and build other objects inside the function."
    )


# ---------------------------------------------------------------------- calls
@frozen
class CallSpec:
    """A call as a DAG run carries it."""

    module: str
    qualname: str
    trial: Trial[Any] | None
    """The trial, for a `Trial.Task`'s call (its function is the objective)."""
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    limits: Limits | None


def encode_call(call: Call) -> dict[str, Any]:
    """The DAG run ``conf`` of a scheduler's call.

    Raises:
        NotImportableError: The function cannot be imported by name on Airflow's workers.
        NotJSONError: The arguments (or the trial) are not JSON data.
    """
    fn = call.fn
    body: dict[str, Any] = {"format": FORMAT}
    if isinstance(fn, TrialRunner):
        body["function"] = function_path(fn.objective)
        (trial,) = call.args
        data = unstructure(trial)
        body["trial"] = check_json(data, f"the trial {trial.name!r}")
        limits = fn.limits
    else:
        body["function"] = function_path(fn)
        body["args"] = check_json(list(call.args), "the arguments")
        body["kwargs"] = check_json(dict(call.kwargs), "the keyword arguments")
        limits = call.applied_limits
    if limits is not None:
        body["limits"] = {
            "memory": limits.memory,
            "cpu_time": limits.cpu_time,
            "wall_time": limits.wall_time,
        }
    return {CONF_KEY: body}


def decode_call(conf: Mapping[str, Any]) -> CallSpec:
    """The call a DAG run's ``conf`` carries.

    Raises:
        ValueError: The conf is not a byop call of a format this byop knows.
    """
    body = conf.get(CONF_KEY) if isinstance(conf, Mapping) else None
    if not isinstance(body, Mapping):
        raise ValueError(
            f"This DAG run's conf has no {CONF_KEY!r} entry: byop's trial DAG runs calls that "
            "byop's Airflow back end sends (Scheduler.with_backend('airflow')), not runs "
            "triggered by hand."
        )
    version = body.get("format")
    if version != FORMAT:
        raise ValueError(
            f"This call is in byop's format {version!r}, and the byop installed on Airflow's "
            f"workers reads format {FORMAT}: install the same byop version here and there."
        )
    module, _, qualname = str(body.get("function", "")).partition(":")
    trial = body.get("trial")
    limits = body.get("limits")
    return CallSpec(
        module=module,
        qualname=qualname,
        trial=None if trial is None else structure(trial, Trial),
        args=tuple(body.get("args") or ()),
        kwargs=dict(body.get("kwargs") or {}),
        limits=None if limits is None else Limits(**limits),
    )


# ---------------------------------------------------------------------- outcomes
def encode_exception(exc: BaseException | None) -> dict[str, Any] | None:
    """An exception as JSON data: its type's name and message (and a dead worker's details)."""
    if exc is None:
        return None
    if isinstance(exc, ForeignException):
        return {"type": exc.type_name, "message": exc.message}
    out: dict[str, Any] = {
        "type": _PUBLIC_NAMES.get(type(exc)) or qualified_name(type(exc)),
        "message": str(exc),
    }
    if isinstance(exc, WorkerDiedError):
        out.update(pid=exc.pid, exitcode=exc.exitcode, signal=exc.signal)
    return out


def decode_exception(data: Mapping[str, Any] | None) -> BaseException | None:
    """The exception back: byop's and built-in types as themselves, others as data."""
    if data is None:
        return None
    cls = _KNOWN.get(str(data.get("type")))
    message = str(data.get("message", ""))
    if cls is WorkerDiedError:
        return WorkerDiedError(
            message,
            pid=int(data.get("pid") or 0),
            exitcode=data.get("exitcode"),
            signal=data.get("signal"),
        )
    if cls is not None:
        return cls(message)
    return structure_exception(data)


def encode_outcome(ok: bool, value: Any, traceback: str | None) -> str:
    """An outcome as the JSON text the DAG's task returns as XCom.

    ``value`` is the function's result, a trial's `ReportPayload`, or (``ok`` false) the
    exception. The text may hold ``NaN`` and ``Infinity`` (a trial's cost may be infinite). A
    result that is not JSON data becomes a `NotJSONError`.
    """
    if ok and isinstance(value, ReportPayload):
        payload = value._asdict()
        payload["exception"] = encode_exception(value.exception)
        payload["results"] = plain(value.results)
        body: dict[str, Any] = {"format": FORMAT, "ok": True, "payload": payload}
    elif ok:
        try:
            result = check_json(value, "the result", finite=False)
        except NotJSONError as e:
            return encode_outcome(False, e, f"{qualified_name(type(e))}: {e}\n")
        body = {"format": FORMAT, "ok": True, "value": result}
    else:
        body = {
            "format": FORMAT,
            "ok": False,
            "error": encode_exception(value),
            "traceback": traceback,
        }
    return json.dumps(body, separators=(",", ":"))


def decode_outcome(text: str, *, trial: bool) -> tuple[bool, Any, str | None]:
    """The outcome of `encode_outcome`: ``(ok, value or exception, traceback)``.

    For a trial, the value is its `ReportPayload`.

    Raises:
        ValueError: The text is not an outcome of a format this byop knows.
    """
    try:
        body = json.loads(text)
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"the DAG run's result is not byop's JSON: {e}") from e
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError(
            "the DAG run's result is not in the format this byop reads: install the same byop "
            "version here and on Airflow's workers."
        )
    if not body.get("ok"):
        error = decode_exception(body.get("error")) or RuntimeError("the call failed")
        return (False, error, body.get("traceback"))
    if "payload" in body:
        if not trial:
            raise ValueError("the DAG run returned a trial's report for a call of a plain task")
        p = dict(body["payload"])
        p["exception"] = decode_exception(p.get("exception"))
        p["results"] = dict(p.get("results") or {})
        return (True, ReportPayload(**p), None)
    return (True, body.get("value"), None)
