"""What per-trial limits cost: the scheduler benchmark's loop with a memory and a wall-time
limit on every trial, against a bare ``ProcessPoolExecutor`` loop without limits, same run.

Target: ratio >= 1.5 (amltk + pynisher, one forked process per trial: about 0.015). Also
prints byop without limits, to show what the limits themselves cost.

    python benchmarks/limits_overhead.py [--trials 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse

from scheduler_throughput import bare_executor, best, space
from support_objectives import poly

from byop.optimization import RandomSearch, Trial
from byop.scheduling import Scheduler


def byop_loop(n_trials: int, n_workers: int, **limits) -> float:
    import time

    scheduler = Scheduler.with_processes(n_workers)
    random_search = RandomSearch(space=space(), seed=42)
    task = Trial.Task(poly, scheduler, call_limit=n_trials, **limits)
    done = []

    @scheduler.on_start(repeat=n_workers)
    def launch():
        task(random_search.ask())

    @task.on_report
    def tell(report):
        random_search.tell(report)
        done.append(report)
        task(random_search.ask())

    t0 = time.perf_counter()
    scheduler.run()
    elapsed = time.perf_counter() - t0
    assert len(done) == n_trials
    assert all(r.status.value == "success" for r in done)
    return n_trials / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, r = args.trials, args.repeat
    limited = best(lambda: byop_loop(n, 2, memory_limit="512MB", wall_time_limit=10.0), r)
    free = best(lambda: byop_loop(n, 2), r)
    bare = best(lambda: bare_executor(n, 2), r)
    print(f"{n} trials of the guide's poly on 2 workers, best of {r}; trials/s")
    print(f"byop, memory + wall-time limit on every trial: {limited:8.0f}")
    print(f"byop, no limits:                               {free:8.0f}")
    print(f"bare ProcessPoolExecutor, no limits:           {bare:8.0f}")
    print(f"ratio limited / bare: {limited / bare:.2f}  (target >= 1.5; amltk + pynisher: 0.015)")
    print(f"cost of the limits:   {limited / free:.2f} of byop's own speed without them")


if __name__ == "__main__":
    main()
