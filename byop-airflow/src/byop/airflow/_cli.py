"""The ``byop-airflow`` command: deploy byop's trial DAG, and check an Airflow end to end."""

from __future__ import annotations

import argparse
import json
import queue
import secrets
import sys
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

from byop.airflow._backend import check_dag
from byop.airflow._credentials import AirflowConfigError, find_connection
from byop.airflow._deploy import DagFileExistsError, deploy_dag
from byop.airflow._poller import Poller, RunEnd
from byop.airflow._rest import AirflowError, AirflowUnavailableError, Rest
from byop.airflow._wire import CONF_KEY, FORMAT, decode_outcome


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="byop-airflow",
        description="byop's Apache Airflow back end: deploy its trial DAG, check an Airflow.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    deploy = commands.add_parser(
        "deploy-dag",
        help="write byop's trial DAG file into an Airflow dags folder",
        description="Write byop's trial DAG (DAG_ID.py) into Airflow's dags folder. Run it "
        "where that folder is; Airflow needs byop-core and byop-airflow installed too.",
    )
    deploy.add_argument("--dags-folder", required=True, help="Airflow's dags folder")
    deploy.add_argument(
        "--allow",
        action="append",
        required=True,
        metavar="MODULE",
        help="a module whose functions the DAG may run (and its submodules); repeat for more",
    )
    deploy.add_argument("--dag-id", default="byop_trial", help="the DAG's id (byop_trial)")
    deploy.add_argument("--pool", help="the Airflow pool its task runs in")
    deploy.add_argument("--pool-slots", type=int, default=1, help="pool slots per trial (1)")
    deploy.add_argument("--queue", help="the executor queue its task runs on")
    deploy.add_argument(
        "--retries", type=int, default=0, help="retries of a task whose process failed (0)"
    )
    deploy.add_argument(
        "--max-active-runs", type=int, default=16, help="trials running at once at most (16)"
    )
    deploy.add_argument("--force", action="store_true", help="replace a different file")

    check = commands.add_parser(
        "check",
        help="log in to an Airflow, check byop's trial DAG, and with --ping run it once",
        description="Reach the Airflow that byop's back end would use (the environment, or "
        "byop's Airflow config file), log in, and check the trial DAG.",
    )
    check.add_argument("--url", help="the Airflow API server (else from the environment)")
    check.add_argument("--config", help="byop's Airflow config file")
    check.add_argument("--dag-id", help="the trial DAG (byop_trial)")
    check.add_argument(
        "--ping", action="store_true", help="trigger one run and wait for its answer"
    )
    check.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the ping (120)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``byop-airflow``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "deploy-dag":
            return _deploy(args)
        return _check(args)
    except (
        AirflowConfigError,
        AirflowError,
        AirflowUnavailableError,
        DagFileExistsError,
        FileNotFoundError,
        ValueError,
        TimeoutError,
    ) as e:
        print(f"byop-airflow: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("byop-airflow: interrupted", file=sys.stderr)
        return 130


def _deploy(args: argparse.Namespace) -> int:
    path = deploy_dag(
        args.dags_folder,
        allow=args.allow,
        dag_id=args.dag_id,
        pool=args.pool,
        pool_slots=args.pool_slots,
        queue=args.queue,
        retries=args.retries,
        max_active_runs=args.max_active_runs,
        force=args.force,
    )
    print(f"wrote {path}")
    print(
        "Airflow parses it at its next scan of the folder; then check it from byop's side "
        f"with: byop-airflow check --dag-id {args.dag_id} --ping"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    connection = find_connection(args.url, args.config)
    dag_id = args.dag_id or connection.dag_id or "byop_trial"
    rest = Rest(connection, timeout=min(30.0, args.timeout))
    try:
        version = rest.get("/version").get("version", "?")
        print(f"Airflow {version} at {connection.url}, logged in with {connection.source}")
        check_dag(rest, dag_id)
        print(f"DAG {dag_id}: byop's trial DAG, unpaused")
        if args.ping:
            seconds, about = ping(rest, dag_id, args.timeout)
            print(
                f"ping: a run of {dag_id} answered in {seconds:.1f} s from {about.get('host')} "
                f"(byop {about.get('byop')}, Python {about.get('python')}, allows "
                f"{', '.join(about.get('allow') or []) or 'nothing'})"
            )
    finally:
        rest.close()
    return 0


def ping(rest: Rest, dag_id: str, timeout: float) -> tuple[float, dict[str, Any]]:
    """Trigger a run of the trial DAG that runs no call, and wait for its answer.

    Returns:
        The seconds it took, and what the DAG's task says about where it runs.

    Raises:
        TimeoutError: No answer within ``timeout`` seconds.
        AirflowError: The run failed.
    """
    prefix = f"byop-ping-{secrets.token_hex(4)}-"
    run_id = prefix + "0"
    ended: queue.Queue[RunEnd] = queue.Queue()
    poller = Poller(rest, dag_id, prefix, lambda _, end: ended.put(end), interval=0.5)
    start = time.monotonic()
    rest.post(
        f"/dags/{urllib.parse.quote(dag_id, safe='')}/dagRuns",
        {
            "dag_run_id": run_id,
            "logical_date": None,
            "conf": {CONF_KEY: {"format": FORMAT, "ping": True}},
            "note": "byop-airflow check --ping",
        },
    )
    poller.watch(run_id)
    poller.start()
    try:
        end = ended.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(
            f"The ping run {run_id} of {dag_id} did not end within {timeout:.0f} s: is the "
            "scheduler running, and does the DAG's pool have free slots?"
        ) from None
    finally:
        poller.stop()
    seconds = time.monotonic() - start
    if end.xcom is None:
        raise AirflowError(f"The ping run {run_id} failed: {end.error}\n{end.traceback or ''}")
    ok, about, _ = decode_outcome(end.xcom, trial=False)
    if not ok:
        raise AirflowError(f"The ping run {run_id} answered with an error: {about}")
    return seconds, about if isinstance(about, dict) else {"answer": json.dumps(about)}
