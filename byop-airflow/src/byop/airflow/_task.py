"""What byop's trial DAG runs on an Airflow worker: one call, in byop's sandbox."""

from __future__ import annotations

import os
import platform
import socket
import sys
import traceback
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from byop.airflow._names import allowed, preload
from byop.airflow._wire import CONF_KEY, FORMAT, decode_call, encode_outcome, resolve
from byop.scheduling import Limits, PackedFunction, Sandbox, TrialRunner, WorkerDiedError

LOADING_SECONDS = 120.0
"""How long a call with limits may take to import its module, before its own limits start."""


def byop_version() -> str:
    """The installed byop-core's version."""
    try:
        return metadata.version("byop-core")
    except metadata.PackageNotFoundError:  # pragma: no cover - a checkout on sys.path
        return "unknown"


def run_conf(conf: Mapping[str, Any], *, allow: Sequence[str], where: str = "") -> str:
    """Run the call a DAG run's ``conf`` carries; its outcome as JSON text (the task's XCom).

    The call runs in byop's sandbox, a child process of this task (see
    `byop.scheduling.Sandbox`): its limits are enforced there, a call that kills its process
    costs that call alone (`WorkerDiedError`), and the processes it starts end with it. Only
    functions of the modules in ``allow`` run (``"pkg"`` allows ``pkg`` and ``pkg.x``): whoever
    may trigger the DAG can run those, with arguments of their choosing, and nothing else.

    Never raises for the call: every error, the call's own or in reading it, is the outcome.

    Args:
        conf: The DAG run's ``conf``.
        allow: The modules whose functions may run.
        where: The Airflow task, for the message of a `WorkerDiedError`.

    Example:
        ```python
        import json

        from byop.airflow import run_conf

        conf = {"byop": {"format": 1, "function": "math:hypot", "args": [3, 4], "kwargs": {}}}
        assert json.loads(run_conf(conf, allow=["math"])) == {"format": 1, "ok": True, "value": 5.0}
        refused = json.loads(run_conf(conf, allow=["mypackage"]))
        assert refused["error"]["type"] == "PermissionError"
        ```
    """
    allow = tuple(allow)
    try:
        body = conf.get(CONF_KEY) if isinstance(conf, Mapping) else None
        if isinstance(body, Mapping) and body.get("ping"):
            return encode_outcome(True, _about(allow), None)
        spec = decode_call(conf)
        if not allowed(spec.module, allow):
            raise PermissionError(
                f"This byop DAG does not run functions of the module {spec.module!r}: it runs "
                f"those of {', '.join(allow) or 'no module'} (the modules it was deployed to "
                f"allow). Deploy it again with `byop-airflow deploy-dag ... --allow "
                f"{spec.module}` to allow it."
            )
        fn = resolve(spec.module, spec.qualname)
        if spec.trial is not None:
            runner = TrialRunner(fn, spec.limits)
            packed = PackedFunction.of(runner, limits=spec.limits, wrapped=False)
            args: tuple[Any, ...] = (spec.trial,)
            kwargs: dict[str, Any] | None = None
        else:
            packed = PackedFunction.of(fn, limits=spec.limits, wrapped=True)
            args, kwargs = spec.args, spec.kwargs
    except Exception as e:
        return encode_outcome(False, e, "".join(traceback.format_exception(e)))
    sandbox = Sandbox()
    try:
        # A fresh process: it imports the function's module first, so that the import does
        # not count against the call's limits (loading a function is not the call's time, as
        # on byop's processes); with limits, a hanging import still ends, after two minutes.
        load_limits = None if spec.limits is None else Limits(wall_time=LOADING_SECONDS)
        load = PackedFunction.of(preload, limits=load_limits)
        ok, value, tb = sandbox.run(load, (spec.module,), None)
        if ok:
            ok, value, tb = sandbox.run(packed, args, kwargs)
    finally:
        sandbox.close()  # with the processes the call started
    if isinstance(value, WorkerDiedError):
        where = where or f"the Airflow task pid {os.getpid()} on {socket.gethostname()}"
        value = WorkerDiedError(
            f"{value} (the sandbox process of {where})",
            pid=value.pid,
            exitcode=value.exitcode,
            signal=value.signal,
        )
    return encode_outcome(ok, value, tb)


def _about(allow: tuple[str, ...]) -> dict[str, Any]:
    """What a ping returns: where the DAG runs, and with what."""
    return {
        "byop": byop_version(),
        "python": platform.python_version(),
        "executable": sys.executable,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "allow": list(allow),
        "format": FORMAT,
    }
