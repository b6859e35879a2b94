"""Back ends on Dask and Ray: byop's loop against each engine's own loop, in the same run.

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

    python benchmarks/backends.py [--engine dask|ray|all] [--trials 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from scheduler_throughput import byop_loop

from byop.scheduling import Scheduler

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["dask", "ray", "all"], default="all")
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=10, help="scaling: trials per worker")
    args = parser.parse_args()
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
