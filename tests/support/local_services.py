"""Start a Dask or Ray service on 127.0.0.1 for one pytest session, and stop it after.

Run by `support.services` when a test needs Dask or Ray and the environment names none
(``BYOP_DASK_ADDRESS`` / ``BYOP_RAY_ADDRESS``, which ``scripts/ci-services up`` sets):

    python local_services.py dask|ray --owner PID --dir DIR

It detaches (so that the service is no child of pytest, whose tests check that they leave no
child process behind), starts the service as its own children, on free ports, writes one line,
``ready ADDRESS SUPERVISOR_PID`` (or ``failed MESSAGE``), to its standard output, and keeps that
pipe open. It stops the service, by the process ids it started, when it gets SIGTERM (pytest's
exit) or when the owner process is gone (pytest killed), whichever comes first, then exits:
the pipe's end tells pytest the service is stopped. Standard library only, apart from
``distributed`` to wait for the Dask workers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

RAY_ENV = {
    # Keep a head started on 127.0.0.1 on the loopback address, and no token auth: every
    # process that connects needs the same (see scripts/services/ray-up).
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
}
DASK_WORKERS = 2
START_TIMEOUT = 120.0


class _Stop(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM each process (last started first), wait ``grace``, then SIGKILL its group."""
    for proc in reversed(procs):
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        # Each was started in a session of its own: sweep what it started, by its group id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def _start_dask(run: Path, procs: list[subprocess.Popen[bytes]]) -> str:
    python = sys.executable
    scheduler_file = run / "scheduler.json"
    procs.append(
        subprocess.Popen(
            [python, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
             str(_free_port()), "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            stdin=subprocess.DEVNULL,
            stdout=(run / "scheduler.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )  # fmt: skip
    for i in range(1, DASK_WORKERS + 1):
        procs.append(
            subprocess.Popen(
                [python, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                 str(scheduler_file), "--host", "127.0.0.1", "--nthreads", "1", "--nworkers",
                 "1", "--no-dashboard", "--name", f"w{i}", "--local-directory", str(run / f"w{i}")],
                stdin=subprocess.DEVNULL,
                stdout=(run / f"worker{i}.log").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )  # fmt: skip
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file), timeout=START_TIMEOUT) as client:
        client.wait_for_workers(DASK_WORKERS, timeout=START_TIMEOUT)
        address: str = client.scheduler.address
    return address


def _start_ray(run: Path, procs: list[subprocess.Popen[bytes]]) -> str:
    os.environ.update(RAY_ENV)
    port = _free_port()
    ray = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [str(ray), "start", "--head", "--block", f"--num-cpus={os.cpu_count() or 1}",
         "--node-ip-address=127.0.0.1", f"--port={port}",
         f"--dashboard-agent-listen-port={_free_port()}", "--include-dashboard=false",
         "--disable-usage-stats", f"--object-store-memory={1024**3}",
         f"--temp-dir={run / 'ray'}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    procs.append(head)
    # `ray start --block` says so once the head serves, then blocks until SIGTERM. A thread
    # copies its output to a log for as long as it runs, so that the pipe never fills.
    started = threading.Event()
    log = run / "head.log"

    def copy() -> None:
        assert head.stdout is not None
        with log.open("wb") as out:
            for line in head.stdout:
                out.write(line)
                out.flush()
                if b"Ray runtime started" in line:
                    started.set()
        started.set()  # the head ended: stop waiting

    threading.Thread(target=copy, name="ray-head-log", daemon=True).start()
    if not started.wait(START_TIMEOUT) or head.poll() is not None:
        raise RuntimeError(f"the Ray head did not start:\n{log.read_text()[-3000:]}")
    return f"127.0.0.1:{port}"


GRACE = {"dask": 10.0, "ray": 30.0}  # seconds from SIGTERM to SIGKILL (ray drains its daemons)


def main() -> None:
    """Detach, start the service, report its address, and stop it when told or orphaned."""
    parser = argparse.ArgumentParser()
    parser.add_argument("service", choices=["dask", "ray"])
    parser.add_argument("--owner", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()

    if os.fork():  # the parent returns at once to pytest, which reaps it
        os._exit(0)
    os.setsid()
    owner = os.pidfd_open(args.owner)  # readable once the owner has exited

    def request_stop(signum: int, frame: object) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in pytest's terminal is pytest's
    run = args.dir
    run.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []  # filled as they start: all are stopped
    try:
        try:
            start = _start_dask if args.service == "dask" else _start_ray
            address = start(run, procs)
        except _Stop:
            raise
        except Exception as e:
            print(f"failed {type(e).__name__}: {e}".replace("\n", " | "), flush=True)
            return
        print(f"ready {address} {os.getpid()}", flush=True)
        # Until SIGTERM (raises _Stop), the owner's end, or the end of a process started here
        # (a Dask worker's nanny restarts its worker: a nanny or a head that ends is the end).
        sentinels = [owner, *(os.pidfd_open(p.pid) for p in procs)]
        select.select(sentinels, [], [])
    except _Stop:
        pass
    finally:
        _stop(procs, GRACE[args.service])


if __name__ == "__main__":
    main()
