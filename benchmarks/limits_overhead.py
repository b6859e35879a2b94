"""What per-trial limits cost: the scheduler benchmark's loop with a memory and a wall-time
limit on every trial, against a bare ``ProcessPoolExecutor`` loop without limits, same run.

Target: ratio >= 1.5 (amltk + pynisher, one forked process per trial: about 0.015). Also
prints byop without limits, to show what the limits themselves cost.

    python benchmarks/limits_overhead.py [--trials 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse

from scheduler_throughput import bare_executor, best, byop_loop
from support_objectives import poly

from byop.scheduling import Scheduler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, r = args.trials, args.repeat

    def run(**limits):
        return byop_loop(Scheduler.with_processes(2), n, 2, objective=poly, **limits)

    limited = best(lambda: run(memory_limit="512MB", wall_time_limit=10.0), r)
    free = best(run, r)
    bare = best(lambda: bare_executor(n, 2), r)
    print(f"{n} trials of the guide's poly on 2 workers, best of {r}; trials/s")
    print(f"byop, memory + wall-time limit on every trial: {limited:8.0f}")
    print(f"byop, no limits:                               {free:8.0f}")
    print(f"bare ProcessPoolExecutor, no limits:           {bare:8.0f}")
    print(f"ratio limited / bare: {limited / bare:.2f}  (target >= 1.5; amltk + pynisher: 0.015)")
    print(f"cost of the limits:   {limited / free:.2f} of byop's own speed without them")


if __name__ == "__main__":
    main()
