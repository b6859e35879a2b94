"""Scheduler throughput: byop's ask/run/tell loop against a bare executor loop, same run.

The guide's ``poly`` on 2 workers, RandomSearch ask/tell through ``Trial.Task`` and events,
2,000 trials (``--trials``). References measured in the same run:

- a bare ``ProcessPoolExecutor`` submit-on-completion loop over the same objective;
- the floor: workers each fed over their own ``multiprocessing`` pipe, nothing else;
- a plain Python loop (for ``Scheduler.with_sequential()``).

Every loop is timed from before its workers start to its last result. The loops alternate,
``--repeat`` rounds; each figure is a median over the rounds, and each ratio the median of the
rounds' ratios, with their range (the machine may be shared: the ratios are what count). Each
loop starts on a collected heap (``gc.collect()``; the collector stays on while it runs).
Target: ``byop/floor`` >= 0.5 on processes(2).

    python benchmarks/scheduler_throughput.py [--trials 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from byop.optimization import RandomSearch, Trial
from byop.pipeline import searchable
from byop.scheduling import ExitStatus, Scheduler


def poly(trial):
    x = trial.config["x"]
    with trial.begin():
        y = (x**2 + 4 * x + 3) / x
        return trial.success(cost=y)

    trial.fail()


def poly_plain(x: float) -> float:
    return (x**2 + 4 * x + 3) / x


MAIN_CPU: list[float] = []
"""Main-process CPU seconds per trial of each byop loop run (ask, send, receive, emit, tell)."""


def space():
    return searchable("parameters", space={"x": (-10.0, 10.0)}).space()


def byop_loop(
    scheduler: Scheduler,
    n_trials: int,
    in_flight: int,
    *,
    objective: Callable[..., Any] = poly,
    timeout: float | None = None,
    **limits: Any,
) -> float:
    """Trials per second of the guide's loop, from the run's start to its last report.

    ``in_flight`` trials are launched at the start and each report launches the next; the
    task carries ``limits``. Every trial must succeed. Also records ``MAIN_CPU``.
    """
    random_search = RandomSearch(space=space(), seed=42)
    task = Trial.Task(objective, scheduler, call_limit=n_trials, **limits)
    done = []

    @scheduler.on_start(repeat=in_flight)
    def launch():
        task(random_search.ask())

    @task.on_report
    def tell(report):
        random_search.tell(report)
        done.append(report)
        task(random_search.ask())

    t0 = time.perf_counter()
    c0 = time.process_time()
    status = scheduler.run(timeout=timeout)
    elapsed = time.perf_counter() - t0
    MAIN_CPU.append((time.process_time() - c0) / n_trials)
    assert status is ExitStatus.EXHAUSTED, status
    assert len(done) == n_trials, len(done)
    assert all(r.status.value == "success" for r in done), done[0]
    return n_trials / elapsed


def bare_executor(n_trials: int, n_workers: int) -> float:
    import numpy as np

    xs = np.random.default_rng(0).uniform(-10, 10, n_trials).tolist()
    t0 = time.perf_counter()
    with ProcessPoolExecutor(n_workers) as ex:
        pending = {ex.submit(poly_plain, xs[i]) for i in range(n_workers)}
        submitted = n_workers
        results = 0
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                f.result()
                results += 1
                if submitted < n_trials:
                    pending.add(ex.submit(poly_plain, xs[submitted]))
                    submitted += 1
    elapsed = time.perf_counter() - t0
    assert results == n_trials
    return n_trials / elapsed


def _pipe_worker(conn) -> None:
    while True:
        x = conn.recv()
        if x is None:
            return
        conn.send(poly_plain(x))


def pipe_floor(n_trials: int, n_workers: int) -> float:
    from multiprocessing.connection import wait as conn_wait

    import numpy as np

    xs = np.random.default_rng(0).uniform(-10, 10, n_trials).tolist()
    ctx = multiprocessing.get_context("fork")
    t0 = time.perf_counter()
    conns, procs = [], []
    for _ in range(n_workers):
        a, b = ctx.Pipe()
        p = ctx.Process(target=_pipe_worker, args=(b,))
        p.start()
        conns.append(a)
        procs.append(p)
    submitted = 0
    for c in conns:
        c.send(xs[submitted])
        submitted += 1
    results = 0
    while results < n_trials:
        for c in conn_wait(conns):
            c.recv()
            results += 1
            if submitted < n_trials:
                c.send(xs[submitted])
                submitted += 1
    for c in conns:
        c.send(None)
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    return n_trials / elapsed


def plain_loop(n_trials: int) -> float:
    random_search = RandomSearch(space=space(), seed=42)
    t0 = time.perf_counter()
    for _ in range(n_trials):
        trial = random_search.ask()
        report = poly(trial)
        random_search.tell(report)
    return n_trials / (time.perf_counter() - t0)


def best(fn, repeat: int) -> float:
    return max(fn() for _ in range(repeat))


def rounds(loops: dict[str, Callable[[], float]], repeat: int) -> dict[str, list[float]]:
    """Each loop's rate in each of ``repeat`` rounds; the loops alternate within a round.

    Each loop starts on a collected heap: the garbage of the loops before it (reports that
    refer to their trials and back) is not collected on its time.
    """
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(repeat):
        for name, loop in loops.items():
            gc.collect()
            rates[name].append(loop())
    return rates


def ratio(ours: list[float], reference: list[float]) -> str:
    """The median of the per-round ratios, and their range: ``0.52 [0.48-0.55]``."""
    ratios = [a / b for a, b in zip(ours, reference, strict=True)]
    return f"{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, r = args.trials, args.repeat
    print(f"{n} trials of the guide's poly; {r} rounds, the loops alternating in each round")
    print(f"before: {load_average()} on {os.cpu_count()} CPUs")
    rows = []
    main_cpu = {}
    for workers in (2, 1):
        MAIN_CPU.clear()
        rates = rounds(
            {
                "byop": lambda w=workers: byop_loop(Scheduler.with_processes(w), n, w),
                "bare": lambda w=workers: bare_executor(n, w),
                "floor": lambda w=workers: pipe_floor(n, w),
            },
            r,
        )
        main_cpu[workers] = statistics.median(MAIN_CPU)
        rows.append((f"processes({workers})", rates))
    seq = rounds(
        {
            "byop": lambda: byop_loop(Scheduler.with_sequential(), n, 1),
            "plain": lambda: plain_loop(n),
        },
        r,
    )
    print(f"after:  {load_average()}")
    print("trials/s: medians; ratios: median of the rounds' ratios [lowest-highest]")
    head = ("loop", "byop", "bare PPE", "byop/bare", "pipe floor", "byop/floor", "target")
    print("{:<15}{:>8}{:>10}{:>19}{:>12}{:>19}{:>8}".format(*head))
    for name, rates in rows:
        med = {k: statistics.median(v) for k, v in rates.items()}
        print(
            f"{name:<15}{med['byop']:>8.0f}{med['bare']:>10.0f}"
            f"{ratio(rates['byop'], rates['bare']):>19}{med['floor']:>12.0f}"
            f"{ratio(rates['byop'], rates['floor']):>19}{'>=0.5' if '2' in name else '':>8}"
        )
    print(
        f"{'sequential':<15}{statistics.median(seq['byop']):>8.0f}"
        f"{statistics.median(seq['plain']):>10.0f}{ratio(seq['byop'], seq['plain']):>19}"
        "  (bare = a plain loop)"
    )
    print(
        "main-process CPU per trial (ask, send, receive, emit, tell, and the system calls), "
        f"median: processes(2) {main_cpu[2] * 1e6:.1f} us; processes(1) {main_cpu[1] * 1e6:.1f} us"
    )
    print(
        f"sequential, everything in one thread: {1e6 / statistics.median(seq['byop']):.1f} us per "
        f"trial; plain loop: {1e6 / statistics.median(seq['plain']):.1f} us"
    )


if __name__ == "__main__":
    main()
