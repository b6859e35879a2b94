"""Large results: how long a trial's 10, 40 and 100 MB result takes to arrive, processes / threads.

One worker, warm (a small trial runs first in the same run); the time is from submitting the
trial to its report in the main process. The objective draws the result (numpy's generator)
and reports it: as a numpy array (which crosses the pipe out of band, as itself) and as
``bytes`` (inside the pickle). Every trial has a wall-time limit of 30 s. The two back ends
alternate, ``--repeat`` times; the figures are medians, and the ratio is the median of the
per-round ratios processes / threads.

Target: ratio <= 2 at 100 MB (before the fix: 10 MB 0.44 s, 40 MB 8.9 s, 100 MB 64 s on
processes, about 0.45 s on threads).

    python benchmarks/large_results.py [--sizes 10 40 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from byop.optimization import Trial
from byop.scheduling import Scheduler


def big_result(trial: Trial[Any]) -> Any:
    n = int(trial.config["mb"] * 1_000_000) // 8
    with trial.begin():
        data = np.random.default_rng(0).random(n)
        result = data.tobytes() if trial.config["kind"] == "bytes" else data
        return trial.success(cost=0.0, result=result)


def arrival(scheduler: Scheduler, mb: float, kind: str) -> tuple[float, float]:
    """Seconds from submitting a trial with an ``mb`` MB result to its report, worker warm;
    and the trial's own duration (drawing the result, in the worker)."""
    task = Trial.Task(big_result, scheduler, wall_time_limit=30)
    submitted: list[float] = []
    elapsed: list[float] = []
    durations: list[float] = []

    @scheduler.on_start
    def warm_up() -> None:
        task(Trial(name="warm-up", config={"mb": 0.001, "kind": kind}))

    @task.on_report
    def next_or_done(report: Trial.Report[Any]) -> None:
        assert report.status.value == "success", report
        if report.trial.name == "warm-up":
            submitted.append(time.perf_counter())
            task(Trial(name="big", config={"mb": mb, "kind": kind}))
        else:
            elapsed.append(time.perf_counter() - submitted[0])
            durations.append(report.time.duration)
            assert len(report["result"]) == int(mb * 1_000_000) // 8 * (8 if kind == "bytes" else 1)

    scheduler.run(timeout=600)
    return elapsed[0], durations[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[10, 40, 100])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"one warm worker; seconds from submit to report, median of {args.repeat}; "
        "ratio = median of processes / threads"
    )
    print("(trial s: the trial itself on processes, drawing its result; the rest is the transfer)")
    head = ("result", "MB", "threads s", "processes s", "trial s", "ratio", "target")
    print("{:<8}{:>6}{:>12}{:>13}{:>9}{:>8}{:>8}".format(*head))
    for kind in ("numpy", "bytes"):
        for mb in args.sizes:
            threads, processes, trial = [], [], []
            for _ in range(args.repeat):
                threads.append(arrival(Scheduler.with_threads(1), mb, kind)[0])
                took, duration = arrival(Scheduler.with_processes(1), mb, kind)
                processes.append(took)
                trial.append(duration)
            ratio = statistics.median(p / t for p, t in zip(processes, threads, strict=True))
            print(
                f"{kind:<8}{mb:>6g}{statistics.median(threads):>12.3f}"
                f"{statistics.median(processes):>13.3f}{statistics.median(trial):>9.3f}"
                f"{ratio:>8.2f}{'<= 2':>8}"
            )


if __name__ == "__main__":
    main()
