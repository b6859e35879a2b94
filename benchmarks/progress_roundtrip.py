"""The round trip of one intermediate report, against a trial's submit-and-report, same run.

For each back end, one scheduler runs two kinds of trials through ``Trial.Task``, one in
flight at a time, alternating, after a warm-up of each:

- a *plain* trial returns ``trial.success(cost=...)`` at once: the time from its submission to
  its report in the main process is the back end's cost of one trial (submit-and-report);
- a *progress* trial calls ``trial.report_progress(step, cost=...)`` ``--steps`` times and
  times each call where it runs: the round trip of one report, from the objective to the
  judge in the main process (a `MedianPruner`, which never stops anyone here) and back.

Printed: the median of each, and their ratio (round trip / submit-and-report). Target: at
most 2. Dask and Ray run on clusters made here, on this machine (Dask: byop's local cluster of
2 workers; Ray: a local instance), so the figures need no service.

    python benchmarks/progress_roundtrip.py [--backends sequential,threads,processes,dask,ray]
        [--trials 200] [--steps 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from byop.optimization import MedianPruner, Trial
from byop.scheduling import Scheduler

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def plain(trial: Trial[Any]) -> Any:
    return trial.success(cost=trial.config["x"])


def progress(trial: Trial[Any]) -> Any:
    times = []
    clock = time.perf_counter
    for step in range(1, trial.config["steps"] + 1):
        t0 = clock()
        trial.report_progress(step, cost=trial.config["x"] / step)
        times.append(clock() - t0)
    return trial.success(cost=trial.config["x"], roundtrip=statistics.median(times))


def _scheduler(name: str) -> Scheduler:
    if name == "ray":
        return Scheduler.with_backend("ray", num_cpus=2)
    return Scheduler.with_backend(name, n_workers=2)


def measure(name: str, trials: int, steps: int) -> tuple[float, float]:
    """Median submit-and-report of a plain trial, and median round trip of one report (s)."""
    scheduler = _scheduler(name)
    tasks = {"plain": Trial.Task(plain, scheduler), "progress": Trial.Task(progress, scheduler)}
    pruner = MedianPruner(min_trials=10**9)
    tasks["progress"].progress_judge = pruner.should_stop
    latency: list[float] = []
    roundtrips: list[float] = []
    warmup = 5
    state = {"n": 0, "submitted": 0.0}

    def submit() -> None:
        n = state["n"]
        kind = "plain" if n % 2 == 0 else "progress"
        state["submitted"] = time.perf_counter()
        tasks[kind](Trial(name=f"{kind}-{n}", config={"x": 1.0 + n, "steps": steps}))

    def on_report(report: Any) -> None:
        elapsed = time.perf_counter() - state["submitted"]
        if report.status.value != "success":
            raise RuntimeError(f"{report}: {report.traceback}")
        if state["n"] >= 2 * warmup:
            if "roundtrip" in report.results:
                roundtrips.append(report["roundtrip"])
            else:
                latency.append(elapsed)
        state["n"] += 1
        if state["n"] < 2 * (trials + warmup):
            submit()

    for task in tasks.values():
        task.on_report(on_report)
    scheduler.on_start(submit)
    scheduler.run(timeout=600)
    return statistics.median(latency), statistics.median(roundtrips)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sequential,threads,processes,dask,ray")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"{'back end':<12} {'submit+report':>14} {'one report':>12} {'ratio':>7}  target <= 2")
    for name in args.backends.split(","):
        trial_s, report_s = measure(name, args.trials, args.steps)
        print(
            f"{name:<12} {trial_s * 1e6:>11.0f} us {report_s * 1e6:>9.0f} us "
            f"{report_s / trial_s:>7.2f}"
        )


if __name__ == "__main__":
    main()
