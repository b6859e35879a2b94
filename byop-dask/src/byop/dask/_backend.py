"""The ``dask`` back end: byop calls as Dask tasks, each run in a sandbox on its worker."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import threading
import traceback
import uuid
from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import urlsplit

from byop.plugins import import_optional
from byop.scheduling import (
    Call,
    CallCancelledError,
    FutureBackend,
    PackedFunction,
    PackedFunctions,
    WorkerDiedError,
    function_label,
    pack_arguments,
    unpickle_outcome,
)

logger = logging.getLogger("byop.dask")

_INSTALL = "byop[dask]"


class DaskUnavailableError(ConnectionError):
    """The Dask scheduler could not be reached, or its workers did not come."""


def import_distributed() -> Any:
    """``distributed``, or an error naming what to install."""
    return import_optional("distributed", install=_INSTALL, feature="byop's Dask back ends")


class DaskBackend(FutureBackend):
    """Runs byop's calls as tasks on a Dask cluster.

    Give one of:

    - ``address``: the address of a running Dask scheduler (``"tcp://10.0.0.5:8786"``);
    - ``cluster``: a Dask cluster object you made (``LocalCluster``, a dask-jobqueue cluster...);
    - ``client``: a ``distributed.Client`` you made;
    - ``n_workers``: byop starts a ``LocalCluster`` of that many workers of
      ``threads_per_worker`` threads, and stops it when the run ends. By default its workers are
      threads of this process (``processes=False``): trials run in sandbox processes anyway,
      and no script needs an ``if __name__ == "__main__":`` guard. Other keyword arguments go
      to ``LocalCluster``.

    With none of them, byop connects to the scheduler named by Dask's configuration
    (``DASK_SCHEDULER_ADDRESS``), or else starts a local cluster with one worker per core.

    byop stops only what it started: the local cluster of ``n_workers``, and the client it made
    for ``address`` or ``cluster``. A cluster or client you gave stays up, and so does the
    scheduler at ``address``.

    Each call runs in the sandbox process of the Dask worker thread that runs it (see
    `byop.scheduling.Sandbox`): per-call limits are enforced there, and a call that kills its
    sandbox fails with `WorkerDiedError` (a trial gets a `CrashReport`) while the Dask worker
    goes on. A Dask worker that dies or leaves while it runs a call (a lost node, a batch job at
    its time limit) fails that call with `WorkerDiedError` too, and byop cancels it so that
    Dask does not run it again; the calls that were only waiting on that worker, Dask runs
    elsewhere, and so does a call that had run for less than half a second (workers announce
    their calls only then; until then, a call costs no message). Dask may start the lost call
    again on another worker in the moment before byop's cancellation reaches it; it is then
    killed there at once.
    Calls cancelled as a run stops are cancelled on the cluster: their sandboxes are killed.

    byop must be installed where the workers run (the same version), since they import
    ``byop.dask`` to run calls; your objective travels by value when its module is not
    importable there (for example ``__main__``), or register its module with
    ``cloudpickle.register_pickle_by_value``.

    Args:
        address: The address of a running Dask scheduler.
        n_workers: Start a local cluster of this many workers.
        threads_per_worker: Threads of each local worker (calls each runs at once).
        cluster: A Dask cluster to run on.
        client: A Dask client to run through.
        wait_for_workers: Wait at the start of each run until this many workers are connected.
        timeout: Seconds to wait for the scheduler, and for ``wait_for_workers``.
        **cluster_kwargs: With ``n_workers``: more keyword arguments for ``LocalCluster``.

    Raises:
        DaskUnavailableError: (when a run starts) The scheduler cannot be reached, or the
            workers did not come within ``timeout``.

    Example:
        ```python
        from byop.scheduling import Scheduler, Task

        scheduler = Scheduler.with_backend("dask", n_workers=2)
        task = Task(pow, scheduler)
        results = []

        @scheduler.on_start
        def launch() -> None:
            for x in range(4):
                task(x, 2)

        task.on_result(lambda call, value: results.append(value))
        scheduler.run(timeout=60)
        assert sorted(results) == [0, 1, 4, 9]
        ```
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
        cluster: Any = None,
        client: Any = None,
        wait_for_workers: int = 0,
        timeout: float = 30.0,
        **cluster_kwargs: Any,
    ) -> None:
        given = [
            name
            for name, value in (
                ("address", address),
                ("n_workers", n_workers),
                ("cluster", cluster),
                ("client", client),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise ValueError(
                f"Give one of address=, n_workers=, cluster= or client=, not {' and '.join(given)}."
            )
        if n_workers is not None and (isinstance(n_workers, bool) or n_workers < 1):
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
        if cluster_kwargs and n_workers is None and given:
            raise TypeError(
                f"Unexpected keyword arguments {sorted(cluster_kwargs)}: keyword arguments for "
                "LocalCluster go with n_workers=; to configure another cluster, make it and pass "
                "cluster=."
            )
        super().__init__()
        self.address = address
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.wait_for_workers = wait_for_workers
        self.timeout = timeout
        self.cluster_kwargs = cluster_kwargs
        self._given_cluster = cluster
        self._given_client = client
        self.cluster: Any = None
        """The cluster in use during a run (``None`` when connected by address)."""
        self.client: Any = None
        """The client in use during a run."""
        self._owns_cluster = False
        self._owns_client = False
        self._packs = PackedFunctions()
        self._specs: dict[str, Any] = {}  # function key -> its scattered spec (a Dask future)
        self._resent: set[int] = set()  # calls Dask dropped once, submitted again
        self._previous_handlers: dict[str, Any] = {}
        self._topics_lock = threading.Lock()
        self._listening = False
        self._started: dict[str, str] = {}  # task key -> the worker it started on
        self._use_configured_address = True

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Connect (or start the local cluster), and subscribe to the cluster's worker events."""
        if self.client is not None:
            return
        distributed = import_distributed()
        import dask

        if self._given_client is not None:
            self.client = self._given_client
            self.cluster = getattr(self.client, "cluster", None)
        else:
            cluster = self._given_cluster
            target: Any = self.address
            if cluster is None and target is None:
                if self._use_configured_address:
                    target = dask.config.get("scheduler-address", None)
                if target is None:
                    cluster = self._start_cluster()
                    self._owns_cluster = True
            if cluster is not None:
                target = cluster
            try:
                self.client = distributed.Client(target, timeout=self.timeout, set_as_default=False)
            except OSError as e:
                self._stop_cluster()
                raise DaskUnavailableError(
                    f"Could not reach the Dask scheduler at {target!r} within {self.timeout:g} s "
                    f"({e}). Start one (`dask scheduler` and `dask worker`, or byop's "
                    "scripts/services/dask-up), check the address, or give n_workers= to run a "
                    "local cluster."
                ) from e
            self.cluster = cluster
            self._owns_client = True
        with contextlib.suppress(Exception):  # progress then stays on 127.0.0.1
            self.listen_toward(urlsplit(str(self.client.scheduler.address)).hostname or "")
        self._subscribe()
        if self.wait_for_workers:
            try:
                self.client.wait_for_workers(self.wait_for_workers, timeout=self.timeout)
            except TimeoutError as e:
                have = len(self.client.scheduler_info().get("workers", {}))
                self.shutdown(cancel=True)
                raise DaskUnavailableError(
                    f"Only {have} of the {self.wait_for_workers} Dask workers asked for "
                    f"(wait_for_workers=) connected within {self.timeout:g} s."
                ) from e

    def _start_cluster(self) -> Any:
        """The local cluster of ``n_workers`` (byop's, stopped at the end of the run)."""
        distributed = import_distributed()
        kwargs: dict[str, Any] = {
            "n_workers": self.n_workers or os.cpu_count() or 1,
            "threads_per_worker": self.threads_per_worker,
            "processes": False,
            "dashboard_address": "127.0.0.1:0",
        }
        kwargs.update(self.cluster_kwargs)
        return distributed.LocalCluster(**kwargs)

    def _stop_cluster(self) -> None:
        cluster, self.cluster = self.cluster, None
        if self._owns_cluster and cluster is not None:
            cluster.close()
        self._owns_cluster = False

    # ---------------------------------------------------------------- worker events
    # Workers announce the calls they start (STARTED_TOPIC); the scheduler announces a worker's
    # removal on that worker's own topic (its address). byop listens to the workers that run
    # its calls, not to the cluster-wide topic, which carries an event per result fetched.
    def _subscribe(self) -> None:
        """Hear which worker each call starts on, and when such a worker leaves."""
        from byop.dask._remote import STARTED_TOPIC

        self._listening = True
        self._listen(STARTED_TOPIC, self._on_start)
        for address in self.client.scheduler_info().get("workers", {}):
            self._listen(address, functools.partial(self._on_worker_event, address))

    def _listen(self, topic: str, handler: Callable[[Any], None]) -> None:
        with self._topics_lock:  # from this thread, and from the client's event loop
            client = self.client
            if client is None or not self._listening or topic in self._previous_handlers:
                return
            previous = getattr(client, "_event_handlers", {}).get(topic)
            self._previous_handlers[topic] = previous
            if previous is not None:
                handler = functools.partial(_both, previous, handler)
            client.subscribe_topic(topic, handler)

    def _unsubscribe(self) -> None:
        with self._topics_lock:
            self._listening = False
            for topic, previous in self._previous_handlers.items():
                with contextlib.suppress(Exception):
                    if previous is not None:
                        self.client.subscribe_topic(topic, previous)
                    else:
                        self.client.unsubscribe_topic(topic)
            self._previous_handlers.clear()

    def _on_start(self, event: Any) -> None:
        """In the client's event loop: a worker started one of the calls (maybe ours)."""
        message = event[1]
        key = message.get("key") if isinstance(message, dict) else None
        if isinstance(key, str) and key in self._running:
            worker = message.get("worker", "?")
            self._started[key] = worker
            self._listen(worker, functools.partial(self._on_worker_event, worker))

    def _on_worker_event(self, worker: str, event: Any) -> None:
        """In the client's event loop: pass on the removal of a worker to `wait`."""
        message = event[1]
        if not isinstance(message, dict) or message.get("action") != "remove-worker":
            return
        keys = message.get("processing-tasks") or ()
        # Only the calls that were running there: those merely waiting there, Dask runs
        # elsewhere.
        ours = [key for key in keys if self._started.get(key) == worker]
        if ours:
            self.arrived(_LOST, (worker, ours))

    # ---------------------------------------------------------------- calls
    def launch(self, call: Call) -> tuple[Hashable, Any]:
        """Submit the call as a Dask task, keyed by a name of its own."""
        from byop.dask._remote import run_on_worker

        packed = self._packs.of_call(call)
        data = pack_arguments(call.args, call.kwargs)
        spec = self._spec(packed)
        key = f"byop-{_slug(packed.name)}-{uuid.uuid4().hex}"
        return key, self.client.submit(run_on_worker, packed.key, spec, data, key=key, pure=False)

    def _spec(self, packed: PackedFunction) -> Any:
        """The function's spec in the cluster's memory: scattered once per run.

        Each call depends on it, so a worker fetches it once (from the client or a peer) and
        keeps it while the run goes on; the function and the data it closes over do not travel
        with every call. Should the data be lost (every worker holding it left), it is
        scattered again for the next calls.
        """
        spec = self._specs.get(packed.key)
        if spec is None or spec.status != "finished":
            spec = self.client.scatter(packed.spec, hash=False)
            self._specs[packed.key] = spec
        return spec

    def collect(self, items: list[tuple[Hashable, Any]]) -> list[Call]:
        """The calls that ended: outcomes fetched in one round trip, lost workers' calls failed."""
        out: list[Call] = []
        finished: list[Call] = []
        for key, item in items:
            if key is _LOST:
                worker, keys = item
                out.extend(self._lost(worker, keys))
                continue
            call = self.pop_running(key)
            self._started.pop(str(key), None)
            if call is None:
                continue  # already ended: cancelled, or its worker was lost
            if item.status == "finished":
                finished.append(call)
            elif item.status == "cancelled" and call.id not in self._resent:
                # Not byop's cancellation (a call byop cancels has ended already): Dask
                # dropped it, as it does a call whose function's data was lost with a worker.
                # It never ran, so it is submitted once more (its data scattered again).
                self._resent.add(call.id)
                self.submit(call)
            else:
                self._record_failure(call, item)
                out.append(call)
        if finished:
            self._gather(finished)
            out.extend(finished)
        return out

    def settle(self, call: Call, item: Any) -> None:
        """Record one finished future's outcome."""
        try:
            call.record(unpickle_outcome(item.result()))
        except Exception as e:
            call.fail(_explain(e), traceback.format_exc())

    def _gather(self, calls: list[Call]) -> None:
        """Fetch the outcomes of finished calls, in one round trip when all are there."""
        try:
            outcomes = self.client.gather([c.handle for c in calls])
        except Exception:
            for call in calls:
                self.settle(call, call.handle)
            return
        for call, outcome in zip(calls, outcomes, strict=True):
            call.record(unpickle_outcome(outcome))

    def _record_failure(self, call: Call, future: Any) -> None:
        if future.status == "cancelled":
            call.cancel(
                CallCancelledError(
                    "the Dask scheduler cancelled this call (it restarted, another client "
                    "cancelled it, or the connection to it was lost)"
                )
            )
            return
        try:
            error = future.exception()
            tb = "".join(traceback.format_exception(error)) if error is not None else None
        except Exception as e:  # the scheduler is gone, the exception cannot be fetched
            error, tb = e, None
        if error is None:  # pragma: no cover - a future in error always has an exception
            error = RuntimeError(f"the Dask task ended with status {future.status!r}")
        call.fail(_explain(error), tb)

    def _lost(self, worker: str, keys: list[str]) -> list[Call]:
        """Fail the calls a departed worker was running, and keep Dask from running them again."""
        calls = [c for k in keys if (c := self.pop_running(k)) is not None]
        for key in keys:
            self._started.pop(key, None)
        if not calls:
            return []
        with contextlib.suppress(Exception):
            self.client.cancel([c.handle for c in calls], force=True)
        for call in calls:
            call.fail(
                WorkerDiedError(
                    f"The Dask worker {worker} left the cluster while it ran "
                    f"{function_label(call.fn)} (it died, was killed, or its batch job ended)."
                ),
                None,
            )
        return calls

    # ---------------------------------------------------------------- stopping
    def cancel_on_engine(self, calls: list[Call]) -> list[str]:
        """Cancel the calls' tasks on the cluster (a running call's sandbox is killed)."""
        client = self.client
        if client is not None:
            with contextlib.suppress(Exception):
                client.cancel([c.handle for c in calls], force=True)
        reason = (
            "the scheduler stopped before this call finished; its Dask task was cancelled (a "
            "running call's sandbox is killed on its worker)"
        )
        return [reason] * len(calls)

    def stop(self, *, cancel: bool) -> None:
        """Close what byop started (its client, its local cluster).

        A cluster, client or scheduler you gave stays up.
        """
        client = self.client
        if client is not None:
            self._unsubscribe()
            if self._owns_client:
                client.close()
        self.client = None
        self._owns_client = False
        self._stop_cluster()
        self._packs.clear()
        self._specs.clear()  # releases the scattered functions on the cluster
        self._started.clear()

    def __repr__(self) -> str:
        where = self.address or ("local" if self.n_workers else "given")
        return f"DaskBackend({where}, running={len(self._running)})"


_LOST = "byop-lost-worker"
"""The key under which news of a departed worker arrives (no task's key looks like it)."""


def _both(first: Callable[[Any], None], second: Callable[[Any], None], event: Any) -> None:
    """Call the handler that was there before byop's, then byop's."""
    with contextlib.suppress(Exception):
        first(event)
    second(event)


def _explain(error: BaseException) -> BaseException:
    """A Dask-side error as what it means for the call."""
    name = type(error).__name__
    if name == "KilledWorker":
        return WorkerDiedError(
            f"The Dask worker running this call died ({error}); Dask did not run it again."
        )
    if isinstance(error, ModuleNotFoundError) and (error.name or "").startswith("byop"):
        return ModuleNotFoundError(
            f"The Dask workers cannot import {error.name!r}: install byop[dask] where the workers "
            "run, the same version as here.",
            name=error.name,
        )
    return error


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "_", name.split(" ", 1)[0])[:40] or "call"
