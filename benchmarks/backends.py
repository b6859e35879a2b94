"""Back ends on Dask, Ray and Airflow: byop's loop against each engine's own loop, same run.

1. Overhead. The guide's ``poly`` through ``Trial.Task`` with RandomSearch ask/tell, on a
   cluster of 2 single-threaded workers, against the engine's own submit-on-completion loop over
   the same cluster and the same trivial objective (Dask: ``as_completed``; Ray: ``ray.wait``),
   2 in flight each. The two alternate, ``--repeat`` times, after a warm-up of each; the ratio
   printed is the median of byop / engine. Target: >= 0.9. Then the same with a wall-time limit
   on every trial ("w/ limits"): on Ray, only such trials run in a sandbox.
2. Scaling. Trials that sleep 0.5 s, over 8 single-threaded workers: ideally 16 trials/s. byop's
   loop keeps 8 in flight; throughput is trials over the time from the run's start to its last
   report (the workers' sandboxes are warm: a first run started them). Target: >= 0.8 x ideal.

Each engine's clusters are made here, on this machine (Dask: a LocalCluster of worker
processes, and of 8 worker threads for the scaling run; Ray: a local instance with 2, then 8,
CPUs), so the figures need no service.

3. Airflow, on the Airflow that ``BYOP_AIRFLOW_CONFIG`` names (``scripts/services/airflow-up``;
   skipped without one): trials of 2 s, 4 DAG runs in flight. byop's loop (``Trial.Task`` on the
   ``airflow`` back end) against a loop that triggers the same DAG runs of the same DAG through
   the REST API and awaits each (its state every 0.5 s, then its XCom), alternating,
   ``--airflow-repeat`` times after a warm-up. Target: >= 0.9. Also the scheduling latency per
   trial (from its trigger to its report, less the trial's own 2 s), and where it goes:
   Airflow queueing the run and starting its task, the task's process before and after the
   trial (parsing the DAG file, byop's sandbox and the objective's import, the XCom), and the
   loop noticing the end. The objective is byop.testing's (which the service's DAG allows);
   importing it imports pytest too, in the sandbox of every trial, of both loops.

    python benchmarks/backends.py [--engine dask|ray|airflow|all] [--trials 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from datetime import datetime
from typing import Any

from scheduler_throughput import byop_loop

from byop.optimization import Trial
from byop.scheduling import ExitStatus, Scheduler

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def poly(trial):
    x = trial.config["x"]
    with trial.begin():
        y = (x**2 + 4 * x + 3) / x
        return trial.success(cost=y)

    trial.fail()


def poly_plain(x: float) -> float:
    return (x**2 + 4 * x + 3) / x


def sleeper(trial):
    with trial.begin():
        time.sleep(0.5)
        return trial.success(cost=trial.config["x"])


def xs(n: int) -> list[float]:
    import numpy as np

    return np.random.default_rng(0).uniform(-10, 10, n).tolist()


# ---------------------------------------------------------------------- byop's loop
# The objectives live in this script's __main__, so they travel to the engines' workers by
# value (the workers cannot import this directory).
PLAIN = {"objective": poly, "timeout": 600}
LIMITED = {**PLAIN, "wall_time_limit": 60}


# ---------------------------------------------------------------------- the engines' loops
def dask_bare(client, n_trials: int, in_flight: int) -> float:
    from distributed import as_completed

    values = xs(n_trials)
    t0 = time.perf_counter()
    futures = [client.submit(poly_plain, values[i], pure=False) for i in range(in_flight)]
    done = as_completed(futures, with_results=True)
    submitted = in_flight
    results = 0
    for _, _ in done:
        results += 1
        if submitted < n_trials:
            done.add(client.submit(poly_plain, values[submitted], pure=False))
            submitted += 1
    elapsed = time.perf_counter() - t0
    assert results == n_trials
    return n_trials / elapsed


def ray_bare(n_trials: int, in_flight: int) -> float:
    import ray

    remote = ray.remote(poly_plain).options(num_cpus=1, max_retries=0)
    values = xs(n_trials)
    t0 = time.perf_counter()
    pending = [remote.remote(values[i]) for i in range(in_flight)]
    submitted = in_flight
    results = 0
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        ray.get(done)
        results += len(done)
        while submitted < n_trials and len(pending) < in_flight:
            pending.append(remote.remote(values[submitted]))
            submitted += 1
    elapsed = time.perf_counter() - t0
    assert results == n_trials
    return n_trials / elapsed


# ---------------------------------------------------------------------- runs
class Cluster:
    """A cluster of ``n`` single-threaded workers, for both loops."""

    def __init__(self, engine: str, n: int, *, threads: bool = False) -> None:
        self.engine, self.n, self.threads = engine, n, threads

    def __enter__(self) -> Cluster:
        if self.engine == "dask":
            from distributed import Client, LocalCluster

            self._cluster = LocalCluster(
                n_workers=self.n,
                threads_per_worker=1,
                processes=not self.threads,
                dashboard_address=":0",
            )
            self.client = Client(self._cluster)
            self.client.wait_for_workers(self.n)
        else:
            import ray

            ray.init(num_cpus=self.n, include_dashboard=False, configure_logging=False)
        return self

    def scheduler(self) -> Scheduler:
        """A byop scheduler over this cluster (which byop then leaves up)."""
        if self.engine == "dask":
            return Scheduler.with_backend("dask", client=self.client)
        return Scheduler.with_backend("ray")  # on this process's Ray connection

    def bare(self, n_trials: int, in_flight: int) -> float:
        """The engine's own loop over this cluster."""
        if self.engine == "dask":
            return dask_bare(self.client, n_trials, in_flight)
        return ray_bare(n_trials, in_flight)

    def __exit__(self, *exc: object) -> None:
        if self.engine == "dask":
            self.client.close()
            self._cluster.close()
        else:
            import ray

            ray.shutdown()


def overhead(engine: str, n_trials: int, repeat: int) -> tuple[float, float, float, float]:
    """Median byop and engine rates, and the medians of their ratios, on 2 workers.

    The last figure is the ratio with a wall-time limit on every trial (on Ray, a trial with
    limits runs in a sandbox; on Dask every trial does).
    """
    with Cluster(engine, 2) as cluster:
        cluster.bare(n_trials // 5, 2)
        byop_loop(cluster.scheduler(), n_trials // 5, 2, **PLAIN)
        byop_loop(cluster.scheduler(), n_trials // 5, 2, **LIMITED)
        ours, theirs, limited = [], [], []
        for _ in range(repeat):
            theirs.append(cluster.bare(n_trials, 2))
            ours.append(byop_loop(cluster.scheduler(), n_trials, 2, **PLAIN))
            limited.append(byop_loop(cluster.scheduler(), n_trials, 2, **LIMITED))
    ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    with_limits = statistics.median(a / b for a, b in zip(limited, theirs, strict=True))
    return statistics.median(ours), statistics.median(theirs), ratio, with_limits


def scaling(engine: str, n_workers: int, rounds: int) -> float:
    """Trials per second of 0.5 s trials on ``n_workers`` workers, sandboxes warm."""
    with Cluster(engine, n_workers, threads=True) as cluster:
        scheduler = cluster.scheduler
        # The first run starts every sandbox.
        byop_loop(scheduler(), n_workers, n_workers, objective=sleeper, timeout=600)
        return byop_loop(scheduler(), n_workers * rounds, n_workers, objective=sleeper, timeout=600)


# ---------------------------------------------------------------------- Airflow
AIRFLOW_SLEEP = 2.0
AIRFLOW_OBJECTIVE = "byop.testing._calls:faulty_trial"  # sleeps config["sleep"], then succeeds


def _airflow_dag() -> tuple[Any, str]:
    from byop.airflow import find_connection
    from byop.airflow._rest import Rest

    connection = find_connection()
    return Rest(connection), connection.dag_id or "byop_trial"


def airflow_byop(n_trials: int, in_flight: int) -> tuple[float, list[float], dict[str, float]]:
    """byop's loop: trials per second, each trial's latency, and each run's trigger time."""
    from byop.testing._calls import faulty_trial

    scheduler = Scheduler.with_backend("airflow")
    task = Trial.Task(faulty_trial, scheduler)
    numbers = iter(range(n_trials))
    launched: dict[str, float] = {}
    latencies: list[float] = []
    triggered: dict[str, float] = {}

    @scheduler.on_start(repeat=in_flight)
    def launch() -> None:
        i = next(numbers, None)
        if i is not None:
            trial = Trial(name=f"b{i}", config={"sleep": AIRFLOW_SLEEP})
            launched[trial.name] = time.time()
            call = task(trial)
            assert call is not None
            triggered[str(call.handle)] = launched[trial.name]

    @task.on_report
    def done(report: Any) -> None:
        assert report.status.value == "success", report
        latencies.append(time.time() - launched[report.trial.name] - report.time.duration)
        launch()

    t0 = time.perf_counter()
    assert scheduler.run(timeout=900) is ExitStatus.EXHAUSTED
    rate = n_trials / (time.perf_counter() - t0)
    assert len(latencies) == n_trials
    return rate, latencies, triggered


def airflow_bare(
    n_trials: int, in_flight: int, poll: float = 0.5
) -> tuple[float, list[float], dict[str, float]]:
    """Trigger the DAG runs through the REST API and await each: what byop replaces."""
    rest, dag = _airflow_dag()
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    latencies: list[float] = []
    triggered: dict[str, float] = {}
    pending: list[str] = []
    submitted = 0

    def trigger() -> None:
        nonlocal submitted
        run_id = f"{prefix}{submitted}"
        trial = {"name": f"r{submitted}", "config": {"sleep": AIRFLOW_SLEEP}}
        conf = {"byop": {"format": 1, "function": AIRFLOW_OBJECTIVE, "trial": trial}}
        triggered[run_id] = time.time()
        rest.post(
            f"/dags/{dag}/dagRuns", {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        )
        pending.append(run_id)
        submitted += 1

    t0 = time.perf_counter()
    try:
        while submitted < min(in_flight, n_trials):
            trigger()
        while pending:
            time.sleep(poll)
            for run_id in list(pending):
                state = rest.get(f"/dags/{dag}/dagRuns/{run_id}")["state"]
                if state not in ("success", "failed"):
                    continue
                assert state == "success", run_id
                xcom = rest.get(
                    f"/dags/{dag}/dagRuns/{run_id}/taskInstances/run/xcomEntries/return_value"
                )
                payload = json.loads(xcom["value"])["payload"]
                latencies.append(time.time() - triggered[run_id] - payload["wall_duration"])
                pending.remove(run_id)
                if submitted < n_trials:
                    trigger()
    finally:
        rest.close()
    return n_trials / (time.perf_counter() - t0), latencies, triggered


def airflow_phases(triggered: dict[str, float]) -> dict[str, float]:
    """Median seconds per phase of these DAG runs, from Airflow's and the trial's timestamps."""
    rest, dag = _airflow_dag()
    phases: dict[str, list[float]] = {"start": [], "before": [], "after": [], "end": []}

    def ts(value: str) -> float:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()

    try:
        for run_id, t in triggered.items():
            path = f"/dags/{dag}/dagRuns/{run_id}"
            run = rest.get(path)
            ti = rest.get(f"{path}/taskInstances/run")
            xcom = rest.get(f"{path}/taskInstances/run/xcomEntries/return_value")
            trial = json.loads(xcom["value"])["payload"]
            phases["start"].append(ts(ti["start_date"]) - t)
            phases["before"].append(trial["wall_start"] - ts(ti["start_date"]))
            phases["after"].append(ts(ti["end_date"]) - trial["wall_end"])
            phases["end"].append(ts(run["end_date"]) - ts(ti["end_date"]))
    finally:
        rest.close()
    return {k: statistics.median(v) for k, v in phases.items()}


def airflow(n_trials: int, repeat: int, in_flight: int = 4) -> None:
    """Run and print the Airflow comparison."""
    if not os.environ.get("BYOP_AIRFLOW_CONFIG") and not os.environ.get("BYOP_AIRFLOW_URL"):
        print(
            "airflow: skipped, no Airflow (export BYOP_AIRFLOW_CONFIG; scripts/services/airflow-up)"
        )
        return
    airflow_bare(in_flight, in_flight)  # warm-up: the executor's workers, the API server
    airflow_byop(in_flight, in_flight)
    ours, theirs, lat_ours, lat_theirs = [], [], [], []
    runs_ours: dict[str, float] = {}
    runs_theirs: dict[str, float] = {}
    for _ in range(repeat):
        rate, lat, runs = airflow_bare(n_trials, in_flight)
        theirs.append(rate)
        lat_theirs += lat
        runs_theirs.update(runs)
        rate, lat, runs = airflow_byop(n_trials, in_flight)
        ours.append(rate)
        lat_ours += lat
        runs_ours.update(runs)
    ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    ideal = in_flight / AIRFLOW_SLEEP
    print(
        f"airflow: {n_trials} trials of {AIRFLOW_SLEEP:g} s, {in_flight} DAG runs in flight, "
        f"median of {repeat} (ideal {ideal:.1f} trials/s, with no scheduling at all)"
    )
    head = ("loop", "trials/s", "ratio", "target", "latency/trial: median", "p90")
    print("{:<10}{:>10}{:>8}{:>8}{:>24}{:>7}".format(*head))
    for name, rates, lat, r in (
        ("byop", ours, lat_ours, f"{ratio:.2f}"),
        ("REST", theirs, lat_theirs, "1"),
    ):
        p90 = statistics.quantiles(lat, n=10)[-1]
        target = ">=0.9" if name == "byop" else ""
        print(
            f"{name:<10}{statistics.median(rates):>10.2f}{r:>8}{target:>8}"
            f"{statistics.median(lat):>23.2f}s{p90:>6.2f}s"
        )
    for name, runs in (("byop", runs_ours), ("REST", runs_theirs)):
        phases = airflow_phases(runs)
        print(
            f"  {name}, median s: trigger -> task starts {phases['start']:.2f} (Airflow's "
            f"scheduler and executor); -> trial starts {phases['before']:.2f} (the task parses "
            f"the DAG file, imports byop, starts the sandbox, which imports the objective); "
            f"trial ends -> task ends {phases['after']:.2f} (sandbox closed, XCom pushed); "
            f"-> run ends {phases['end']:.2f}; the rest is the loop noticing"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["dask", "ray", "airflow", "all"], default="all")
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=10, help="scaling: trials per worker")
    parser.add_argument("--airflow-trials", type=int, default=16)
    parser.add_argument("--airflow-repeat", type=int, default=2)
    args = parser.parse_args()
    if args.engine in ("airflow", "all"):
        airflow(args.airflow_trials, args.airflow_repeat)
        if args.engine == "airflow":
            return
    engines = ["dask", "ray"] if args.engine == "all" else [args.engine]
    n_workers = 8
    ideal = n_workers / 0.5
    rows = []
    for engine in engines:
        ours, theirs, ratio, with_limits = overhead(engine, args.trials, args.repeat)
        rate = scaling(engine, n_workers, args.rounds)
        rows.append((engine, ours, theirs, ratio, with_limits, rate))
    print(
        f"overhead: {args.trials} trials of the guide's poly on 2 workers, median of "
        f"{args.repeat}; scaling: {n_workers * args.rounds} trials of 0.5 s on {n_workers} "
        f"workers (ideal {ideal:.0f} trials/s)"
    )
    head = (
        "engine", "byop/s", "engine/s", "ratio", "target", "w/ limits", "scaling/s", "of ideal",
        "target",
    )  # fmt: skip
    print("{:<8}{:>9}{:>10}{:>8}{:>8}{:>11}{:>11}{:>10}{:>8}".format(*head))
    for engine, ours, theirs, ratio, with_limits, rate in rows:
        print(
            f"{engine:<8}{ours:>9.0f}{theirs:>10.0f}{ratio:>8.2f}{'>=0.9':>8}{with_limits:>11.2f}"
            f"{rate:>11.1f}{rate / ideal:>10.2f}{'>=0.8':>8}"
        )


if __name__ == "__main__":
    main()
