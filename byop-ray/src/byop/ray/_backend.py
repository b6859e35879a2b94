"""The ``ray`` back end: byop calls as Ray tasks, each run in a sandbox on its worker."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import traceback
from collections.abc import Hashable
from concurrent.futures import Future
from typing import Any

from byop.plugins import import_optional
from byop.scheduling import (
    Call,
    CallCancelledError,
    FutureBackend,
    PackedFunctions,
    WorkerDiedError,
    function_label,
    pack_arguments,
    unpickle_outcome,
)

logger = logging.getLogger("byop.ray")

_SYSTEM_ERRORS = (
    "WorkerCrashedError",
    "NodeDiedError",
    "LocalRayletDiedError",
    "OutOfMemoryError",
    "ObjectLostError",
    "OwnerDiedError",
    "RaySystemError",
)


class RayUnavailableError(ConnectionError):
    """The Ray cluster could not be reached or started."""


def import_ray() -> Any:
    """``ray``, or an error naming what to install."""
    return import_optional("ray", install="byop[ray]", feature="byop's Ray back end")


class RayBackend(FutureBackend):
    """Runs byop's calls as Ray tasks.

    Where they run:

    - ``address`` (``"10.0.0.5:6379"``): a running Ray cluster. byop connects this process to
      it for the run, and disconnects at the end; the cluster stays up.
    - Nothing, with this process already connected (``ray.init`` was called): that connection,
      which byop leaves as it is (so does an ``address`` naming the connected cluster).
    - Nothing else: a local Ray instance that byop starts (``ray.init(num_cpus=...)``) and stops
      at the end of the run. (Ray itself first looks at ``RAY_ADDRESS``: when it is set, that
      cluster is used and left up.)

    Each call is a Ray task that asks for ``num_cpus_per_call`` CPUs (so a cluster of N CPUs
    runs N trials at once by default) and is never retried by Ray. A call with limits runs in
    the sandbox process of its Ray worker (see `byop.scheduling.Sandbox`): the limits are
    enforced there, and a call that kills its sandbox fails with `WorkerDiedError` (a trial
    gets a `CrashReport`) while the Ray worker goes on. A call without limits runs in the Ray
    worker itself, a process that runs one task at a time: a call that kills it fails with
    `WorkerDiedError` too, and Ray starts another worker. So does a Ray worker or node that
    dies while it runs a call. Calls cancelled as a run stops are cancelled on the cluster
    (``ray.cancel``): their sandboxes, or their workers, are killed.

    byop must be installed on the cluster (the same version): Ray workers import
    ``byop.ray`` to run calls. Your objective travels by value when its module is not
    importable there (for example ``__main__``).

    Args:
        address: The address of a running Ray cluster (its GCS, ``host:6379``).
        n_workers: How many calls run at once on the local instance byop starts (its
            ``num_cpus`` unless that is given; ignored for a cluster, which has its own).
        num_cpus: CPUs of the local instance byop starts (by default ``n_workers``, else
            every core).
        num_cpus_per_call: CPUs each call asks Ray for (fractions allowed).
        always_sandbox: Run every call in a sandbox, not only those with limits: the processes
            a call starts then end with it, as on byop's process back end.
        timeout: Seconds to wait for the cluster at ``address`` to answer (Ray itself would
            retry for minutes).
        init_kwargs: More keyword arguments for ``ray.init``.
        **task_options: More options for each task (``resources={"GPU": 1}``,
            ``scheduling_strategy=...``, ``runtime_env=...``), as for ``.options()``.

    Raises:
        RayUnavailableError: (when a run starts) Ray could not connect or start.

    Example:
        ```python
        from byop.scheduling import Scheduler, Task

        scheduler = Scheduler.with_backend("ray", num_cpus=2)
        task = Task(pow, scheduler)
        results = []

        @scheduler.on_start
        def launch() -> None:
            for x in range(4):
                task(x, 2)

        task.on_result(lambda call, value: results.append(value))
        scheduler.run(timeout=120)
        assert sorted(results) == [0, 1, 4, 9]
        ```
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        num_cpus: int | None = None,
        num_cpus_per_call: float = 1,
        always_sandbox: bool = False,
        timeout: float = 10.0,
        init_kwargs: dict[str, Any] | None = None,
        **task_options: Any,
    ) -> None:
        if address is not None and num_cpus is not None:
            raise ValueError(
                "num_cpus= sizes the local Ray instance byop starts; a cluster given by "
                "address= has its own."
            )
        if num_cpus_per_call <= 0:
            raise ValueError(f"num_cpus_per_call must be positive, got {num_cpus_per_call!r}.")
        if n_workers is not None and (
            isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
        ):
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
        super().__init__()
        if address is None and num_cpus is None and n_workers is not None:
            num_cpus = n_workers
        self.address = address
        self.n_workers = n_workers
        self.num_cpus = num_cpus
        self.num_cpus_per_call = num_cpus_per_call
        self.timeout = timeout
        self.always_sandbox = always_sandbox
        self.init_kwargs = dict(init_kwargs or {})
        self.task_options = task_options
        self._connected = False
        self._owns_connection = False
        self._remote: Any = None
        self._packs = PackedFunctions()
        self._specs: dict[str, list[Any]] = {}  # function key -> [its spec's object ref]

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Connect to the cluster, or start the local instance."""
        if self._connected:
            return
        ray = import_ray()
        if self.address is not None:
            _check_reachable(self.address, self.timeout)
        if ray.is_initialized():
            self._check_same_cluster(ray)
        else:
            kwargs: dict[str, Any] = {"include_dashboard": False, "configure_logging": False}
            if self.address is not None:
                kwargs["address"] = self.address
            if self.num_cpus is not None:
                kwargs["num_cpus"] = self.num_cpus
            kwargs.update(self.init_kwargs)
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, TimeoutError) as e:
                where = self.address or "a local instance"
                raise RayUnavailableError(
                    f"Ray could not connect to {where}: {type(e).__name__}: {e}. Check that the "
                    "cluster runs (`ray status --address ...`, or byop's scripts/services/ray-up) "
                    "and that this process has the same RAY_* environment variables as the "
                    "cluster (for a head on 127.0.0.1: RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 and "
                    "RAY_AUTH_MODE=disabled)."
                ) from e
            self._owns_connection = True
        options: dict[str, Any] = {
            "num_cpus": self.num_cpus_per_call,
            "max_retries": 0,
            "retry_exceptions": False,
        }
        options.update(self.task_options)
        self._remote = _remote_function(ray, always=self.always_sandbox).options(**options)
        with contextlib.suppress(Exception):  # progress then stays on 127.0.0.1
            self.listen_toward(
                self.address.split("://")[-1].rsplit(":", 1)[0] if self.address else ""
            )
        self._connected = True

    def _check_same_cluster(self, ray: Any) -> None:
        """This process is connected already: to the cluster at ``address``, if one is given."""
        if self.address is None:
            return
        current = str(ray.get_runtime_context().gcs_address)
        if _canonical(current) != _canonical(self.address):
            raise RayUnavailableError(
                f"This process is connected to the Ray cluster at {current} already (ray.init "
                f"was called), and a process connects to one cluster at a time: call "
                f"ray.shutdown() before running on {self.address}, or leave out address= to "
                "run on the connected cluster."
            )

    # ---------------------------------------------------------------- calls
    def launch(self, call: Call) -> tuple[Hashable, Any]:
        """Submit the call as a Ray task."""
        packed = self._packs.of_call(call)
        spec = self._specs.get(packed.key)
        if spec is None:
            # In the object store once per run; in a list, so that Ray hands the reference
            # over unresolved and a worker that has loaded the function never fetches it.
            spec = self._specs[packed.key] = [import_ray().put(packed.spec)]
        data = pack_arguments(call.args, call.kwargs)
        return call.id, self._remote.remote(packed.key, spec, data)

    def watch(self, key: Hashable, handle: Any) -> None:
        """Hear of the task's end through its object reference's future."""
        handle.future().add_done_callback(lambda future: self.arrived(key, future))

    def settle(self, call: Call, item: Future[Any]) -> None:
        """Record the task's outcome, or what its failure means for the call."""
        try:
            outcome = unpickle_outcome(item.result())
        except BaseException as e:
            call.fail(_explain(e, call), "".join(traceback.format_exception(e)))
        else:
            call.record(outcome)

    # ---------------------------------------------------------------- stopping
    def cancel_on_engine(self, calls: list[Call]) -> list[str]:
        """Cancel the calls' tasks on the cluster: a running one is killed on its worker."""
        ray = import_ray()
        for call in calls:
            # A call in a sandbox is killed with it; one in its Ray worker, with the worker.
            sandboxed = self.always_sandbox or call.limits is not None
            with contextlib.suppress(Exception):
                ray.cancel(call.handle, force=not sandboxed)
        reason = (
            "the scheduler stopped before this call finished; its Ray task was cancelled (a "
            "running call is killed on its worker)"
        )
        return [reason] * len(calls)

    def stop(self, *, cancel: bool) -> None:
        """Disconnect (a local instance byop started stops with it).

        A connection you made stays, and so does a cluster given by address.
        """
        if self._owns_connection:
            import_ray().shutdown()
        self._owns_connection = False
        self._connected = False
        self._remote = None
        self._packs.clear()
        self._specs.clear()

    def __repr__(self) -> str:
        return f"RayBackend({self.address or 'local'}, running={len(self._running)})"


def _check_reachable(address: str, timeout: float) -> None:
    """Fail fast where Ray would retry for minutes.

    That is: nothing at ``host:port``, or a head bound to the loopback address while this
    process would connect to the machine's outward address.
    """
    if "://" in address or address == "auto":
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return
    if not _answers(host, int(port), timeout):
        raise RayUnavailableError(
            f"Nothing answers at {address}: start the Ray head there (`ray start --head`, or "
            "byop's scripts/services/ray-up), or check the address."
        )
    if not _is_loopback(host) or os.environ.get(_SINGLE_NODE_VARIABLE, "").lower() in _FALSE:
        return
    outward = _outward_address()
    if outward is not None and not _answers(outward, int(port), timeout):
        raise RayUnavailableError(
            f"The Ray head at {address} listens on the loopback address only, and Ray on Linux "
            f"connects to this machine's own address ({outward}) instead, retrying for "
            f"minutes. Export {_SINGLE_NODE_VARIABLE}=0 and RAY_AUTH_MODE=disabled before "
            "Python starts, as for the head (see scripts/services/ray-up)."
        )


_SINGLE_NODE_VARIABLE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_FALSE = ("0", "false", "no", "off")


def _canonical(address: str) -> str:
    host, _, port = address.rpartition(":")
    with contextlib.suppress(OSError):
        host = socket.gethostbyname(host)
    return f"{host}:{port}"


def _answers(host: str, port: int, timeout: float) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _outward_address() -> str | None:
    """This machine's address toward others (no packet is sent), or ``None``."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("8.8.8.8", 80))
            address: str = probe.getsockname()[0]
    except OSError:
        return None
    return None if _is_loopback(address) else address


_REMOTE: dict[bool, Any] = {}


def _remote_function(ray: Any, *, always: bool) -> Any:
    """The worker's entry as a Ray remote function, made once (Ray exports it once per job)."""
    if always not in _REMOTE:
        from byop.ray._remote import run_in_sandbox, run_on_worker

        _REMOTE[always] = ray.remote(run_in_sandbox if always else run_on_worker)
    return _REMOTE[always]


def _explain(error: BaseException, call: Call) -> BaseException:
    """A Ray-side error as what it means for the call."""
    name = type(error).__name__
    if name == "TaskCancelledError":
        return CallCancelledError(f"Ray cancelled this call: {error}")
    if name in _SYSTEM_ERRORS or any(c.__name__ in _SYSTEM_ERRORS for c in type(error).__mro__):
        return WorkerDiedError(
            f"The Ray worker running {function_label(call.fn)} died: "
            f"{type(error).__name__}: {error}"
        )
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        if isinstance(cause, ModuleNotFoundError) and (cause.name or "").startswith("byop"):
            return ModuleNotFoundError(
                f"The Ray workers cannot import {cause.name!r}: install byop[ray] on the "
                "cluster, the same version as here.",
                name=cause.name,
            )
        return cause
    return error
