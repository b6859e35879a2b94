"""Data travels once: per-trial time with a 200 MB data set against the same run with 1 KB.

An objective that closes over its data (a pipeline's X and y) goes to the workers with the
data. byop sends it once per worker per run on every back end: the process back end registers
each function once per worker, the Dask back end scatters it once into the cluster's memory
(the Slurm and other dask-jobqueue back ends run through it), the Ray back end puts it once in
the object store. This benchmark runs the same optimization twice on each back end, with the
objective holding a 1 KB array and a 200 MB one, and prints the time per trial of each and
their ratio. Target: 200 MB within 1.2x of 1 KB.

The objective does a fixed amount of work per trial (``--work`` seconds of arithmetic on a
small slice of its data), as an objective that fits a model does; 2 workers, ``--trials``
trials each run, with a wall-time limit on every trial (so the trials run in sandboxes on Dask
and Ray, as they would under limits). "per trial" = the run's wall time (the back end's start
and the once-per-worker transfer included) over the trials; "warm" = per worker process, the
time from its first report to its last over the trials in between, averaged over the workers
(what each further trial costs once the data is there).

The Dask cluster is a LocalCluster of 2 worker processes made here, the Ray cluster a local
instance of 2 CPUs: the figures need no service, and data crosses process boundaries on both.

    python benchmarks/data_travel.py [--backends processes,dask,ray] [--trials 60] [--mb 200]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from byop.run import optimize

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


class Objective:
    """Closes over ``data``; each trial reads a slice of it and works ``work`` seconds."""

    def __init__(self, data: np.ndarray, work: float) -> None:
        self.data = data
        self.work = work

    def __call__(self, trial):
        with trial.begin():
            end = time.perf_counter() + self.work
            total = 0.0
            while time.perf_counter() < end:
                total += float(self.data[:1000].sum())
            return trial.success(cost=trial.config["x"] ** 2 + 0 * total, pid=os.getpid())


def run(backend: str, nbytes: int, trials: int, work: float) -> tuple[float, float, int]:
    data = np.random.default_rng(0).random(max(1, nbytes // 8))
    options: dict = {}
    if backend == "dask":
        options = {"processes": True}
    start = time.perf_counter()
    history = optimize(
        Objective(data, work),
        {"x": (-10.0, 10.0)},
        seed=0,
        n_workers=2,
        backend=backend,
        backend_options=options,
        max_trials=trials,
        wall_time_limit=60,
        progress="off",
    )
    wall = time.perf_counter() - start
    ok = [r for r in history if r.status.value == "success"]
    by_worker: dict[int, list[float]] = {}
    for report in ok:
        by_worker.setdefault(report.results["pid"], []).append(report.time.end)
    warm = [
        (max(ends) - min(ends)) / (len(ends) - 1) for ends in by_worker.values() if len(ends) > 1
    ]
    return wall / trials, sum(warm) / max(1, len(warm)), len(ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="processes,dask,ray")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--mb", type=float, default=200)
    parser.add_argument("--work", type=float, default=0.2)
    args = parser.parse_args()
    big = int(args.mb * 1e6)
    print(f"{args.trials} trials on 2 workers, {args.work * 1000:.0f} ms of work per trial")
    print(f"{'back end':<10} {'data':>8} {'per trial':>10} {'warm':>9} {'ok':>4}")
    for backend in args.backends.split(","):
        figures = {}
        for label, nbytes in (("1 KB", 1000), (f"{args.mb:g} MB", big)):
            per_trial, steady, ok = run(backend, nbytes, args.trials, args.work)
            figures[label] = (per_trial, steady)
            ms = f"{per_trial * 1000:>8.1f}ms {steady * 1000:>7.1f}ms"
            print(f"{backend:<10} {label:>8} {ms} {ok:>4}", flush=True)
        (small, small_steady), (large, large_steady) = figures.values()
        print(
            f"{backend:<10} ratio {args.mb:g} MB / 1 KB: per trial {large / small:.2f}x, "
            f"warm {large_steady / small_steady:.2f}x (target <= 1.2x)"
        )


if __name__ == "__main__":
    main()
