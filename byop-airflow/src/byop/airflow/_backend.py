"""The ``airflow`` back end: each call a run of byop's trial DAG on a remote Airflow 3."""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import traceback
import urllib.parse
from collections.abc import Hashable
from typing import Any

from byop.airflow._credentials import AirflowConfigError, find_connection
from byop.airflow._dag import TAG, TASK_ID
from byop.airflow._poller import Poller, RunEnd
from byop.airflow._rest import AirflowError, Rest
from byop.airflow._wire import decode_outcome, encode_call
from byop.scheduling import Call, FutureBackend, TrialRunner, function_label

logger = logging.getLogger("byop.airflow")

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class AirflowBackend(FutureBackend):
    """Runs byop's calls as DAG runs of byop's trial DAG, on a running Airflow 3.

    Each call triggers one run of the trial DAG (`trial_dag`, deployed with ``byop-airflow
    deploy-dag``) through Airflow's REST API, with the call in the run's ``conf`` as JSON: the
    function by its import path, the trial (or the arguments) and the limits. The DAG's task
    runs it in byop's sandbox on an Airflow worker and returns the outcome as XCom, as JSON.
    Nothing is pickled on the way.

    - **The function must be importable on Airflow's workers**, by the same name as here (a
      module installed in Airflow's environment, or in its dags folder), and its module allowed
      by the DAG (``deploy-dag --allow``). A function of ``__main__`` is refused at once.
    - **A plain `Task`** runs a module-level function with JSON arguments (``None``, bool, int,
      float, str, lists and dicts), and its result must be JSON too (tuples come back as lists).
    - **Limits and crash isolation** hold as on byop's processes: the sandbox enforces the
      limits, and a call that kills its process costs that call alone (`WorkerDiedError`). A
      DAG run that fails (its task's process died, or someone failed it) does too.
    - **Waiting** is one request per poll for all the runs in flight (the list of those still
      queued or running), backing off to ``poll_interval`` while none ends.
    - **Cancelling** (``run(wait=False)``, an error) sets the runs to failed: byop reports them
      at once, and Airflow kills their tasks at its next heartbeat.
    - **Pools, queues and retries** are the DAG's (``deploy-dag --pool/--queue/--retries``);
      ``pool=`` and ``queue=`` here check that the DAG runs where you expect.

    Where Airflow is and how to log in come from the arguments, the environment
    (``BYOP_AIRFLOW_URL``, ``BYOP_AIRFLOW_USERNAME``, ``BYOP_AIRFLOW_PASSWORD``) or a config file
    (``config=``, ``BYOP_AIRFLOW_CONFIG`` or ``~/.config/byop/airflow.toml``): see
    `find_connection`. Credentials are never arguments, so they never reach code or a run store.

    Args:
        url: The Airflow API server (``http://airflow:8080``), if not in the environment or the
            config file.
        dag_id: The trial DAG (default: the config file's ``dag_id``, else ``"byop_trial"``).
        config: byop's Airflow config file.
        n_workers: Accepted for the back-end contract and otherwise unused: how many trials run
            at once is Airflow's (its pools, parallelism, and the DAG's ``max_active_runs``).
        pool: Check that the DAG's task runs in this Airflow pool.
        queue: Check that the DAG's task runs on this executor queue.
        poll_interval: The longest wait, in seconds, between two polls of the runs in flight.
        timeout: Seconds to wait for Airflow to answer one request.

    Raises:
        AirflowConfigError: (when a run starts) No Airflow is configured, or the DAG is missing,
            paused, not byop's, or not in ``pool``/``queue``.
        AirflowUnavailableError: (when a run starts) Nothing answers at the URL.
        AirflowAuthError: (when a run starts) Airflow refused the credentials.

    Example:
        ```python
        from byop.airflow import AirflowBackend

        backend = AirflowBackend("http://airflow.example.org:8080", dag_id="byop_trial")
        assert backend.name == "airflow"
        assert "example.org" in repr(backend)
        ```
    """

    name = "airflow"

    def __init__(
        self,
        url: str | None = None,
        *,
        dag_id: str | None = None,
        config: str | os.PathLike[str] | None = None,
        n_workers: int | None = None,
        pool: str | None = None,
        queue: str | None = None,
        poll_interval: float = 1.0,
        timeout: float = 30.0,
    ) -> None:
        if n_workers is not None and (
            isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
        ):
            raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
        for label, value in (("poll_interval", poll_interval), ("timeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{label} must be a positive number of seconds, got {value!r}.")
        if url is not None and not str(url).startswith(("http://", "https://")):
            raise ValueError(f"url must be an http:// or https:// URL, got {url!r}.")
        super().__init__()
        self.url = url
        self.dag_id = dag_id
        self.config = config
        self.n_workers = n_workers
        self.pool = pool
        self.queue = queue
        self.poll_interval = float(poll_interval)
        self.timeout = float(timeout)
        self._rest: Rest | None = None
        self._poller: Poller | None = None
        self._prefix = ""
        self._numbers = itertools.count()
        self.polls = 0
        """How many times byop asked Airflow which of its DAG runs are still going, in all."""

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Find Airflow, log in, check the trial DAG, and start polling."""
        if self._poller is not None:
            return
        connection = find_connection(self.url, self.config)
        dag_id = self.dag_id or connection.dag_id or "byop_trial"
        rest = Rest(connection, timeout=self.timeout)
        try:
            check_dag(rest, dag_id, pool=self.pool, queue=self.queue)
        except BaseException:
            rest.close()
            raise
        self._rest = rest
        self.dag_id = dag_id
        self._prefix = f"byop-{secrets.token_hex(4)}-"
        self._poller = Poller(rest, dag_id, self._prefix, self.arrived, self.poll_interval)
        self._poller.start()

    def stop(self, *, cancel: bool) -> None:
        """Stop polling and close the connections (the DAG runs byop started have ended)."""
        if self._poller is not None:
            self._poller.stop()
            self.polls += self._poller.polls
        if self._rest is not None:
            self._rest.close()
        self._poller = None
        self._rest = None

    # ---------------------------------------------------------------- calls
    def progress_link(self, call: Call) -> None:
        """None: a trial crosses as JSON, and its DAG run does not reach back to this process.

        Its ``trial.report_progress`` keeps the values and answers ``False`` (never stopped).
        """

    def launch(self, call: Call) -> tuple[Hashable, Any]:
        """Trigger a run of the trial DAG with the call in its ``conf``."""
        if self._rest is None:
            raise RuntimeError("The Airflow back end is not started (Scheduler.run starts it).")
        conf = encode_call(call)
        if isinstance(call.fn, TrialRunner):
            label = f"trial {call.args[0].name}"
        else:
            label = function_label(call.fn)
        tail = _UNSAFE.sub("_", label.removeprefix("trial "))[:100]
        run_id = f"{self._prefix}{next(self._numbers)}-{tail}"
        body = {
            "dag_run_id": run_id,
            "logical_date": None,
            "conf": conf,
            "note": f"byop {label}",
        }
        try:
            self._rest.post(f"/dags/{urllib.parse.quote(str(self.dag_id), safe='')}/dagRuns", body)
        except AirflowError as e:
            if e.status != 409:  # 409: triggered already, by a retried request
                raise
        return run_id, run_id

    def watch(self, key: Hashable, handle: Any) -> None:
        """Have the poller watch the DAG run."""
        assert self._poller is not None
        self._poller.watch(str(key))

    def settle(self, call: Call, item: RunEnd) -> None:
        """Record the call's outcome, read from its DAG run's XCom, or why it has none."""
        if item.error is not None or item.xcom is None:
            error = item.error or AirflowError(f"The DAG run {item.run_id} has no result.")
            call.fail(error, item.traceback or _line(error))
            return
        try:
            ok, value, tb = decode_outcome(item.xcom, trial=isinstance(call.fn, TrialRunner))
        except ValueError as e:
            error = AirflowError(f"The DAG run {item.run_id}: {e}")
            call.fail(error, "".join(traceback.format_exception(error)))
            return
        call.record((ok, value, tb))

    # ---------------------------------------------------------------- stopping
    def cancel_on_engine(self, calls: list[Call]) -> list[str]:
        """Set the calls' DAG runs to failed: Airflow kills their tasks at its next heartbeat."""
        reasons = []
        for call in calls:
            run_id = str(call.handle)
            if self._poller is not None:
                self._poller.forget(run_id)
            reason = (
                "the scheduler stopped before this call finished; its DAG run "
                f"{run_id} was set to failed in Airflow"
            )
            try:
                assert self._rest is not None
                path = f"/dags/{urllib.parse.quote(str(self.dag_id), safe='')}/dagRuns/"
                self._rest.patch(
                    path + urllib.parse.quote(run_id, safe=""),
                    {"state": "failed", "note": "cancelled by byop: its scheduler stopped"},
                )
            except Exception as e:
                reason = (
                    "the scheduler stopped before this call finished; byop could not fail its "
                    f"DAG run {run_id} in Airflow ({type(e).__name__}: {e}), which may go on"
                )
            reasons.append(reason)
        return reasons

    def __repr__(self) -> str:
        where = self._rest.connection.url if self._rest is not None else self.url or "configured"
        return f"AirflowBackend({where}, dag_id={self.dag_id!r}, running={len(self._running)})"


def check_dag(
    rest: Rest, dag_id: str, *, pool: str | None = None, queue: str | None = None
) -> None:
    """Check that ``dag_id`` is byop's trial DAG, unpaused, in ``pool`` and on ``queue``.

    Raises:
        AirflowConfigError: It is not; the message says what to do.
    """
    where = rest.connection.url
    quoted = urllib.parse.quote(dag_id, safe="")
    try:
        dag = rest.get(f"/dags/{quoted}")
    except AirflowError as e:
        if e.status != 404:
            raise
        raise AirflowConfigError(
            f"Airflow at {where} has no DAG {dag_id!r}: deploy byop's trial DAG into its "
            f"dags folder (`byop-airflow deploy-dag --dags-folder DIR --dag-id {dag_id} "
            "--allow YOUR_MODULE`) and wait for Airflow to parse it."
        ) from e
    if TAG not in [t.get("name") if isinstance(t, dict) else t for t in dag.get("tags") or []]:
        raise AirflowConfigError(
            f"The DAG {dag_id!r} on {where} is not byop's trial DAG (it has no {TAG!r} "
            "tag): give the dag_id of a DAG written by `byop-airflow deploy-dag`."
        )
    if dag.get("is_paused"):
        raise AirflowConfigError(
            f"The DAG {dag_id!r} on {where} is paused, so its runs would wait forever: "
            f"unpause it (`airflow dags unpause {dag_id}`, or in Airflow's UI)."
        )
    if dag.get("has_import_errors"):
        logger.warning(
            "Airflow reports an import error in the file of %s: it runs the version it last "
            "parsed (see `airflow dags list-import-errors`).",
            dag_id,
        )
    task = rest.get(f"/dags/{quoted}/tasks/{TASK_ID}")
    for option, expected in (("pool", pool), ("queue", queue)):
        actual = task.get(option)
        if expected is not None and actual != expected:
            raise AirflowConfigError(
                f"The DAG {dag_id!r} runs its trials in {option} {actual!r}, not "
                f"{expected!r}: deploy a DAG for that {option} (`byop-airflow deploy-dag "
                f"--dag-id {dag_id}_{expected} --{option} {expected} ...`) and give its "
                "dag_id."
            )


def _line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}\n"
