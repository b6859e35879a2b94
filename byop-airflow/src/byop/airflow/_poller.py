"""Waiting on many DAG runs at once: one list request per poll, backing off while nothing ends.

The poller asks Airflow which of the run's DAG runs are still queued or running (one request per
poll, a page per hundred runs in flight), and looks closer only at those that left that list:
their state, and their task's XCom (or, for a failed run, its task's state and log). Each ends
once, through the back end's ``arrived``.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from attrs import frozen

from byop.airflow._dag import TASK_ID
from byop.airflow._rest import AirflowError, AirflowUnavailableError, Rest
from byop.scheduling import CallCancelledError, WorkerDiedError

logger = logging.getLogger("byop.airflow")

_UNFINISHED = ("queued", "running")
_PAGE = 100  # Airflow's largest page by default ([api] maximum_page_limit)
_NEVER_RAN = (None, "none", "scheduled", "queued", "removed", "skipped", "upstream_failed")


@frozen
class RunEnd:
    """How a DAG run ended: its task's XCom (the call's outcome), or why there is none."""

    run_id: str
    xcom: str | None = None
    error: BaseException | None = None
    traceback: str | None = None


class Poller:
    """Watches DAG runs from a thread of its own, and hands each one's end to ``arrived``.

    Args:
        rest: The API client.
        dag_id: The trial DAG.
        prefix: What every watched run's id starts with (this run's, not another's).
        arrived: Called with ``(run_id, RunEnd)`` once a watched run ends; any thread.
        interval: The longest wait between two polls; after a run starts or ends, the poller
            polls sooner (a quarter of a second), backing off to this while nothing ends.
    """

    def __init__(
        self,
        rest: Rest,
        dag_id: str,
        prefix: str,
        arrived: Callable[[str, RunEnd], None],
        interval: float,
    ) -> None:
        self.rest = rest
        self.dag_id = dag_id
        self.prefix = prefix
        self.arrived = arrived
        self.slow = interval
        self.fast = min(0.25, interval)
        self.polls = 0
        self._watched: set[str] = set()
        self._cond = threading.Condition()
        self._stopped = False
        self._fresh = False
        self._outage = False
        self._dag = urllib.parse.quote(dag_id, safe="")
        self._thread = threading.Thread(target=self._loop, name="byop-airflow-poller", daemon=True)

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Start polling (in a daemon thread)."""
        self._thread.start()

    def watch(self, run_id: str) -> None:
        """Watch a DAG run just triggered."""
        with self._cond:
            self._watched.add(run_id)
            self._fresh = True
            self._cond.notify()

    def forget(self, run_id: str) -> None:
        """Stop watching a DAG run (cancelled)."""
        with self._cond:
            self._watched.discard(run_id)

    def stop(self) -> None:
        """Stop polling; waits briefly for a request under way."""
        with self._cond:
            self._stopped = True
            self._watched.clear()
            self._cond.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    # ------------------------------------------------------------------ the loop
    def _loop(self) -> None:
        delay = self.fast
        while True:
            with self._cond:
                while not self._stopped and not self._watched:
                    self._cond.wait()
                if self._fresh:
                    delay, self._fresh = self.fast, False
                deadline = time.monotonic() + delay
                while not self._stopped and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)  # new runs do not end sooner: only stop cuts this short
                if self._stopped:
                    return
                watched = set(self._watched)
            try:
                ended = self._poll(watched)
            except (AirflowUnavailableError, _TransientError) as e:
                if not self._outage:
                    logger.warning("byop cannot poll Airflow, retrying: %s", e)
                    self._outage = True
                delay = self.slow
                continue
            except Exception as e:  # a lasting error: every watched run ends with it
                logger.error("byop stops watching its DAG runs: %s", e)
                self._fail_all(e)
                continue
            if self._outage:
                logger.warning("byop polls Airflow again")
                self._outage = False
            delay = self.fast if ended else min(delay * 1.5, self.slow)

    def _poll(self, watched: set[str]) -> int:
        """Hand over the runs that ended; how many did."""
        self.polls += 1
        unfinished = self._unfinished()
        ended = 0
        for run_id in sorted(watched - unfinished):
            end = self._ending(run_id)
            if end is None:
                continue
            with self._cond:
                if run_id not in self._watched:
                    continue  # cancelled meanwhile: the back end ended it already
                self._watched.discard(run_id)
            self.arrived(run_id, end)
            ended += 1
        return ended

    def _unfinished(self) -> set[str]:
        """The ids of this run's DAG runs that are queued or running."""
        found: set[str] = set()
        offset = 0
        while True:
            page = self._get(
                f"/dags/{self._dag}/dagRuns",
                state=list(_UNFINISHED),
                run_id_pattern=self.prefix,
                order_by="id",
                limit=_PAGE,
                offset=offset,
            )
            runs = page.get("dag_runs") or []
            found.update(r["dag_run_id"] for r in runs if r.get("state") in _UNFINISHED)
            offset += len(runs)
            if not runs or offset >= int(page.get("total_entries") or 0):
                return found

    def _ending(self, run_id: str) -> RunEnd | None:
        """How a run that left the list ended (``None``: it has not, after all)."""
        run_path = f"/dags/{self._dag}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
        try:
            run = self._get(run_path)
        except AirflowError as e:
            if e.status == 404:
                return RunEnd(
                    run_id, error=CallCancelledError(f"the DAG run {run_id} was deleted in Airflow")
                )
            raise
        state = run.get("state")
        if state in _UNFINISHED:
            return None
        task_path = f"{run_path}/taskInstances/{TASK_ID}"
        if state == "success":
            try:
                entry = self._get(f"{task_path}/xcomEntries/return_value")
            except AirflowError as e:
                if e.status != 404:
                    raise
                entry = {}
            value = entry.get("value")
            if isinstance(value, str):
                return RunEnd(run_id, xcom=value)
            return RunEnd(
                run_id,
                error=AirflowError(
                    f"The DAG run {run_id} of {self.dag_id} succeeded without byop's result in "
                    "its XCom: is this DAG byop's trial DAG (byop-airflow deploy-dag)?"
                ),
            )
        return self._failure(run_id, task_path, state)

    def _failure(self, run_id: str, task_path: str, state: Any) -> RunEnd:
        """A DAG run that failed: its task never ran, or its process failed."""
        try:
            ti = self._get(task_path)
        except AirflowError as e:
            if e.status != 404:
                raise
            ti = {}
        ti_state = ti.get("state")
        where = f"{self.rest.connection.url}/dags/{self._dag}/runs/{run_id}/tasks/{TASK_ID}"
        if ti_state in _NEVER_RAN:
            return RunEnd(
                run_id,
                error=CallCancelledError(
                    f"The DAG run {run_id} was set to {state} in Airflow before its task ran "
                    f"(task state {ti_state}): by hand, or by Airflow ({where})."
                ),
            )
        log = self._log_tail(task_path, int(ti.get("try_number") or 1))
        last = log.strip().splitlines()[-1] if log.strip() else "no log"
        error = WorkerDiedError(
            f"The Airflow task running this call ended in state {ti_state} without a result: its "
            f"process died, or was failed from outside ({last}). Its log: {where}"
        )
        return RunEnd(run_id, error=error, traceback=log or None)

    def _log_tail(self, task_path: str, try_number: int, lines: int = 20) -> str:
        """The last warnings and errors of a task's log (best effort: ``""`` if unreadable)."""
        try:
            data = self._get(f"{task_path}/logs/{try_number}", full_content=True)
        except Exception:
            return ""
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, list):
            return str(content or "")[-4000:]
        out = []
        for event in content:
            if not isinstance(event, dict):
                out.append(str(event))
                continue
            level = str(event.get("level", "")).lower()
            if level in ("warning", "error", "critical") or event.get("logger") == "task.stderr":
                extra = {
                    k: v
                    for k, v in event.items()
                    if k in ("exit_code", "signal", "error_detail", "exception")
                }
                out.append(f"{level}: {event.get('event', '')} {extra or ''}".rstrip())
        return "\n".join(out[-lines:])

    def _get(self, path: str, **params: Any) -> Any:
        try:
            return self.rest.get(path, **params)
        except AirflowError as e:
            if e.status >= 500:
                raise _TransientError(str(e)) from e
            raise

    def _fail_all(self, error: BaseException) -> None:
        with self._cond:
            watched, self._watched = self._watched, set()
        for run_id in sorted(watched):
            self.arrived(run_id, RunEnd(run_id, error=error))


class _TransientError(Exception):
    """Airflow answered with a server error: worth asking again."""
