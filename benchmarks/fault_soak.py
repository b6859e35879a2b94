"""Fault soak: n trials of which 5% die in assorted ways (os._exit, SIGKILL, a segfault, an
exception). Every trial must end with exactly one report, 0.95 n of them successes, and the run
must complete. Prints throughput against the same loop with no faults, same run.

    python benchmarks/fault_soak.py [--trials 2000]
"""

from __future__ import annotations

import argparse
import random
import time

import psutil
from support_objectives import sometimes_dies

from byop.optimization import Trial
from byop.scheduling import ExitStatus, Scheduler

FAULTS = ("exit", "sigkill", "segfault", "raise")


def soak(n: int, fault_rate: float, seed: int = 0) -> tuple[float, int, int]:
    rng = random.Random(seed)
    n_faulty = round(n * fault_rate)
    faulty = dict(zip(rng.sample(range(n), n_faulty), (FAULTS * n)[:n_faulty], strict=True))
    scheduler = Scheduler.with_processes(2)
    task = Trial.Task(sometimes_dies, scheduler)
    reports = []
    it = iter(range(n))

    def launch(*_):
        i = next(it, None)
        if i is not None:
            config = {"x": rng.uniform(0.1, 10.0)}
            if i in faulty:
                config["fault"] = faulty[i]
            task(Trial(name=f"t{i}", config=config))

    scheduler.on_start(repeat=2)(launch)
    task.on_report(reports.append)
    task.on_report(launch)
    t0 = time.perf_counter()
    status = scheduler.run(timeout=600)
    elapsed = time.perf_counter() - t0
    assert status is ExitStatus.EXHAUSTED, status
    names = [r.trial.name for r in reports]
    assert len(names) == n, f"{len(names)} reports for {n} trials"
    assert len(set(names)) == n, "a trial was reported twice"
    successes = sum(r.status.value == "success" for r in reports)
    assert successes == n - n_faulty, (successes, n - n_faulty)
    assert psutil.Process().children(recursive=True) == []
    return n / elapsed, successes, n_faulty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    args = parser.parse_args()
    rate, successes, faulty = soak(args.trials, 0.05)
    clean, _, _ = soak(args.trials, 0.0)
    n = args.trials
    print(f"{n} trials, {faulty} of which died: {n} reports, {successes} successes")
    print(f"throughput with faults: {rate:.0f}/s; without: {clean:.0f}/s; ratio {rate / clean:.2f}")


if __name__ == "__main__":
    main()
