"""Run-store overhead: what recording a trial costs, against plain file appends, same run.

For each of N reports (``--trials``), the store writes a ``started`` and a ``report`` record.
Measured in the same run, on the same file system (a temporary directory):

- ``RunStore(sync=True)``, the default: one write and one fdatasync a record;
- ``RunStore(sync=False)``: one write a record (survives a killed process, not a power cut);
- the reference: the same JSON lines appended to a file with ``f.write`` and no sync;
- reading the store back (``read_store``), against ``json.loads`` of every line.

Also: ``optimize()`` on the threads back end with and without a store, to show what the store
adds to a run of trivial trials.

    python benchmarks/store_overhead.py [--trials 300]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from byop.history import RunHeader, RunStore, read_store
from byop.optimization import RandomSearch
from byop.run import optimize
from byop.serialization import unstructure


def reports(n: int) -> list:
    rs = RandomSearch(space={"x": (-5.0, 5.0), "k": ["a", "b"], "i": (1, 100)}, seed=1)
    out = []
    for _ in range(n):
        trial = rs.ask()
        with trial.begin():
            pass
        out.append(trial.success(cost=trial.config["x"] ** 2))
    return out


def timed_store(path: Path, items: list, *, sync: bool) -> float:
    store = RunStore.create(path, RunHeader(optimizer="random_search"), sync=sync)
    start = time.perf_counter()
    for report in items:
        store.started(report.trial)
        store.reported(report)
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def timed_reference(path: Path, items: list) -> float:
    start = time.perf_counter()
    with path.open("a") as f:
        for report in items:
            f.write(json.dumps({"kind": "started", "trial": unstructure(report.trial)}) + "\n")
            f.write(json.dumps({"kind": "report", "report": unstructure(report)}) + "\n")
            f.flush()
    return time.perf_counter() - start


def objective(trial):
    return trial.success(cost=trial.config["x"] ** 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    args = parser.parse_args()
    n = args.trials
    items = reports(n)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        synced = timed_store(d / "synced.jsonl", items, sync=True)
        unsynced = timed_store(d / "unsynced.jsonl", items, sync=False)
        reference = timed_reference(d / "reference.jsonl", items)
        start = time.perf_counter()
        run = read_store(d / "synced.jsonl")
        read = time.perf_counter() - start
        start = time.perf_counter()
        for line in (d / "synced.jsonl").read_text().splitlines():
            json.loads(line)
        parse = time.perf_counter() - start
        assert len(run.reports) == n
        size = (d / "synced.jsonl").stat().st_size / n

        start = time.perf_counter()
        optimize(
            objective,
            {"x": (-1.0, 1.0)},
            seed=0,
            backend="threads",
            n_workers=2,
            max_trials=n,
            progress="off",
        )
        bare = time.perf_counter() - start
        start = time.perf_counter()
        optimize(
            objective,
            {"x": (-1.0, 1.0)},
            seed=0,
            backend="threads",
            n_workers=2,
            max_trials=n,
            progress="off",
            store=d / "run.jsonl",
        )
        stored = time.perf_counter() - start

    per = 1e3 / n
    print(f"{n} trials, {size:.0f} bytes a trial (started + report records)")
    print(
        f"  store, synced      {synced * per:7.3f} ms a trial  x{synced / reference:6.1f} reference"
    )
    print(
        f"  store, not synced  {unsynced * per:7.3f} ms a trial  "
        f"x{unsynced / reference:6.1f} reference"
    )
    print(f"  reference appends  {reference * per:7.3f} ms a trial")
    print(
        f"  read_store         {read * per:7.3f} ms a trial  x{read / parse:6.1f} json.loads alone"
    )
    print(
        f"  optimize, threads  {bare * per:7.3f} ms a trial without a store, "
        f"{stored * per:.3f} with one (x{stored / bare:.2f})"
    )


if __name__ == "__main__":
    main()
