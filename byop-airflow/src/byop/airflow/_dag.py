"""byop's trial DAG: built inside Airflow, from the file `deploy_dag` writes."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

from byop.airflow._names import check_module_name
from byop.plugins import import_optional

TASK_ID = "run"
"""The id of the trial DAG's one task, whose XCom is the call's outcome."""

TAG = "byop"
"""The tag every trial DAG carries (how byop's back end recognises one)."""


def trial_dag(
    dag_id: str = "byop_trial",
    *,
    allow: Sequence[str],
    pool: str | None = None,
    pool_slots: int = 1,
    queue: str | None = None,
    retries: int = 0,
    max_active_runs: int = 16,
) -> Any:
    """Byop's trial DAG, for a DAG file in Airflow's ``dags/`` folder (`deploy_dag` writes one).

    One task, ``run``: it reads the call from the DAG run's ``conf``, runs it in byop's sandbox
    (`run_conf`) and returns its outcome as XCom. It needs Airflow, byop-core and byop-airflow
    installed where Airflow parses DAGs and runs tasks, and the functions it runs importable
    there.

    Args:
        dag_id: The DAG's id (``Scheduler.with_backend("airflow", dag_id=...)``).
        allow: The modules whose functions the DAG runs (``"pkg"`` allows ``pkg.x`` too).
            Whoever may trigger the DAG can run those, with arguments of their choosing.
        pool: The Airflow pool the task runs in (Airflow's default pool if not given).
        pool_slots: The pool slots one trial takes.
        queue: The executor queue of the task (the executor's default if not given).
        retries: How many times Airflow runs a task again whose process failed (a trial that
            fails or crashes in byop's sandbox is a report, never retried).
        max_active_runs: How many DAG runs (trials) run at once; more wait, queued.

    Returns:
        The ``airflow.sdk.DAG``.
    """
    sdk = import_optional("airflow.sdk", install="apache-airflow", feature="byop's trial DAG")
    allowed = tuple(check_module_name(m) for m in allow)
    options: dict[str, Any] = {"task_id": TASK_ID, "retries": retries, "pool_slots": pool_slots}
    if pool is not None:
        options["pool"] = pool
    if queue is not None:
        options["queue"] = queue

    with sdk.DAG(
        dag_id,
        schedule=None,
        catchup=False,
        is_paused_upon_creation=False,
        max_active_runs=max_active_runs,
        max_active_tasks=max_active_runs,
        tags=[TAG],
        doc_md=_DOC.format(allow=", ".join(allowed) or "(none)"),
    ) as dag:

        @sdk.task(**options)  # type: ignore[untyped-decorator]
        def run(**context: Any) -> str:
            from byop.airflow._task import run_conf

            ti = context["ti"]
            where = (
                f"the Airflow task {ti.dag_id}/{ti.run_id}/{ti.task_id} (pid {os.getpid()} on "
                f"{socket.gethostname()})"
            )
            return run_conf(context["dag_run"].conf or {}, allow=allowed, where=where)

        run()
    return dag


_DOC = """\
**byop's trial DAG.** Each run is one call of byop's Airflow back end
(`Scheduler.with_backend("airflow")`): the call is in the run's `conf`, and its task returns
the outcome as XCom. Triggered by byop: a run triggered by hand finds no call in its conf,
and says so in its XCom.

It runs functions of these modules only: {allow}.
"""
