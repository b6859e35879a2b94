"""Scheduler throughput: byop's ask/run/tell loop against a bare executor loop, same run.

The guide's ``poly`` on 2 workers, RandomSearch ask/tell through ``Trial.Task`` and events,
2,000 trials (``--trials``). References measured in the same run:

- a bare ``ProcessPoolExecutor`` submit-on-completion loop over the same objective;
- the floor: workers each fed over their own ``multiprocessing`` pipe, nothing else;
- a plain Python loop (for ``Scheduler.with_sequential()``).

Every loop is timed from before its workers start to its last result.

    python benchmarks/scheduler_throughput.py [--trials 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
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


def main_process_cost(n_trials: int) -> float:
    """Microseconds of main-process work per trial: the sequential loop minus the objective."""
    random_search = RandomSearch(space=space(), seed=42)
    scheduler = Scheduler.with_sequential()
    rate = byop_loop(scheduler, n_trials, 1)
    del random_search
    return 1e6 / rate


def best(fn, repeat: int) -> float:
    return max(fn() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, r = args.trials, args.repeat
    rows = []
    main_cpu = {}
    for workers in (2, 1):
        MAIN_CPU.clear()
        ours = best(lambda w=workers: byop_loop(Scheduler.with_processes(w), n, w), r)
        main_cpu[workers] = min(MAIN_CPU)
        bare = best(lambda w=workers: bare_executor(n, w), r)
        floor = best(lambda w=workers: pipe_floor(n, w), r)
        rows.append((f"processes({workers})", ours, bare, floor))
    seq = best(lambda: byop_loop(Scheduler.with_sequential(), n, 1), r)
    plain = best(lambda: plain_loop(n), r)
    print(f"{n} trials of the guide's poly, best of {r}; trials/s (ratio = byop / reference)")
    head = ("loop", "byop", "bare PPE", "ratio", "pipe floor", "of floor")
    print("{:<16}{:>10}{:>10}{:>8}{:>12}{:>10}".format(*head))
    for name, ours, bare, floor in rows:
        ratios = f"{ours / bare:>8.2f}{floor:>12.0f}{ours / floor:>10.2f}"
        print(f"{name:<16}{ours:>10.0f}{bare:>10.0f}{ratios}")
    print(f"{'sequential':<16}{seq:>10.0f}{plain:>10.0f}{seq / plain:>8.2f}  (vs a plain loop)")
    print(
        "main-process CPU per trial on processes(2) (ask, send, receive, emit, tell, and the "
        f"system calls): {main_cpu[2] * 1e6:.0f} us; processes(1): {main_cpu[1] * 1e6:.0f} us"
    )
    print(
        f"sequential, everything in one thread: {1e6 / seq:.1f} us per trial; "
        f"plain loop: {1e6 / plain:.1f} us"
    )


if __name__ == "__main__":
    main()
