"""What per-trial limits cost: the scheduler benchmark's loop with a memory and a wall-time
limit on every trial, against references measured in the same run.

References: the pipe floor (2 workers each fed over its own pipe, nothing else: the same as in
``scheduler_throughput.py``), a bare ``ProcessPoolExecutor`` loop without limits, and byop
without limits (what the limits themselves cost). The loops alternate, ``--repeat`` rounds;
figures are medians, ratios the median of the rounds' ratios with their range.

Targets: ``byop/floor`` >= 0.4 with limits; limited / bare >= 1.5 (amltk + pynisher, one
forked process per trial: about 0.015).

    python benchmarks/limits_overhead.py [--trials 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics

from scheduler_throughput import (
    MAIN_CPU,
    bare_executor,
    byop_loop,
    load_average,
    pipe_floor,
    ratio,
    rounds,
)
from support_objectives import poly

from byop.scheduling import Scheduler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, r = args.trials, args.repeat

    def run(**limits):
        return byop_loop(Scheduler.with_processes(2), n, 2, objective=poly, **limits)

    print(f"{n} trials of the guide's poly on 2 workers; {r} rounds, the loops alternating")
    print(f"before: {load_average()}")
    MAIN_CPU.clear()
    rates = rounds(
        {
            "limited": lambda: run(memory_limit="512MB", wall_time_limit=10.0),
            "floor": lambda: pipe_floor(n, 2),
            "free": run,
            "bare": lambda: bare_executor(n, 2),
        },
        r,
    )
    print(f"after:  {load_average()}")
    limited_cpu = statistics.median(MAIN_CPU[0::2])
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("trials/s, medians:")
    print(f"  byop, memory + wall-time limit on every trial: {med['limited']:8.0f}")
    print(f"  byop, no limits:                               {med['free']:8.0f}")
    print(f"  pipe floor (2 workers, a pipe each, nothing else): {med['floor']:4.0f}")
    print(f"  bare ProcessPoolExecutor, no limits:           {med['bare']:8.0f}")
    print(f"byop/floor with limits:  {ratio(rates['limited'], rates['floor'])}  (target >= 0.4)")
    print(f"byop/floor, no limits:   {ratio(rates['free'], rates['floor'])}")
    print(
        f"limited / bare:          {ratio(rates['limited'], rates['bare'])}  "
        "(target >= 1.5; amltk + pynisher: 0.015)"
    )
    print(f"cost of the limits:      {ratio(rates['limited'], rates['free'])} of byop without them")
    print(f"main-process CPU per trial with limits, median: {limited_cpu * 1e6:.1f} us")


if __name__ == "__main__":
    main()
