"""How good each optimizer gets through byop: median best value per trial count.

Three problems: Branin (2 dimensions, minimum 0.397887), Hartmann6 (6 dimensions, minimum
-3.32237) and an SVC on scikit-learn's digits (C and gamma on log scales, error of 3-fold
cross-validation). Each optimizer runs 50 trials with 5 seeds through byop's ask and tell;
the table gives, for each problem and optimizer, the median over the seeds of the best value
found after 10, 20, 30 and 50 trials, and the median seconds the optimizer itself took per
trial (ask + tell, the objective's time left out). No target: it is the guide to choosing an
optimizer (docs/integrations/choosing.md).

The optimizers live in different environments (NePS needs numpy 2, HEBO numpy<1.25), so each
run appends its results to a JSON-lines file, skipping what the file has already, and
``--table`` prints the table from it:

    .venv-hebo/bin/python benchmarks/optimizer_quality.py \
        --optimizers random_search smac optuna hebo
    .venv-neps/bin/python benchmarks/optimizer_quality.py --optimizers neps
    .venv/bin/python benchmarks/optimizer_quality.py --table

(scripts/optimizer-venvs install makes .venv-neps and .venv-hebo; .venv-neps needs
scikit-learn for the SVC problem: ``uv pip install --python .venv-neps/bin/python
scikit-learn``.) ``--quick`` runs 12 trials with 2 seeds, into another file.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from byop.pipeline import Float, Space

RESULTS = Path(__file__).with_name("optimizer_quality.jsonl")
CHECKPOINTS = (10, 20, 30, 50)
OPTIMIZERS = ("random_search", "smac", "optuna", "neps", "hebo")
OPTIONS: dict[str, dict[str, Any]] = {
    # NePS's acquisition search, lighter than its defaults (20 restarts from 256 points), which
    # take tens of seconds a trial on two shared cores.
    "neps": {"algorithm": "bayesian_optimization", "num_restarts": 4, "n_initial_start_points": 64},
    "smac": {"n_trials": 50},
}


# ---------------------------------------------------------------------- problems
def branin(config: dict[str, Any]) -> float:
    x1, x2 = config["x1"], config["x2"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H_A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
_H_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)


def hartmann6(config: dict[str, Any]) -> float:
    x = [config[f"x{i}"] for i in range(6)]
    total = 0.0
    for alpha, a, p in zip(_H_ALPHA, _H_A, _H_P, strict=True):
        total += alpha * math.exp(-sum(a[j] * (x[j] - p[j]) ** 2 for j in range(6)))
    return -total


_DIGITS: dict[str, Any] = {}


def svc_digits(config: dict[str, Any]) -> float:
    from sklearn.datasets import load_digits  # shipped with scikit-learn: no download
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    if not _DIGITS:
        _DIGITS["xy"] = load_digits(return_X_y=True)
    x, y = _DIGITS["xy"]
    model = SVC(C=config["C"], gamma=config["gamma"])
    return 1.0 - float(cross_val_score(model, x, y, cv=3).mean())


PROBLEMS: dict[str, tuple[Space, Callable[[dict[str, Any]], float]]] = {
    "branin": (Space([Float(-5.0, 10.0, name="x1"), Float(0.0, 15.0, name="x2")]), branin),
    "hartmann6": (Space([Float(0.0, 1.0, name=f"x{i}") for i in range(6)]), hartmann6),
    "svc_digits": (
        Space([Float(1e-2, 1e3, log=True, name="C"), Float(1e-5, 1e0, log=True, name="gamma")]),
        svc_digits,
    ),
}


# ---------------------------------------------------------------------- running
def run(problem: str, optimizer_name: str, seed: int, n_trials: int) -> dict[str, Any]:
    from byop.optimization import create_optimizer

    space, objective = PROBLEMS[problem]
    t0 = time.perf_counter()
    optimizer = create_optimizer(
        optimizer_name, space=space, seed=seed, **OPTIONS.get(optimizer_name, {})
    )
    own = time.perf_counter() - t0
    values = []
    for _ in range(n_trials):
        t0 = time.perf_counter()
        trial = optimizer.ask()
        own += time.perf_counter() - t0
        value = objective(dict(trial.config))
        values.append(value)
        t0 = time.perf_counter()
        optimizer.tell(trial.success(cost=value))
        own += time.perf_counter() - t0
    close = getattr(optimizer, "close", None)
    if close is not None:
        close()
    return {
        "problem": problem,
        "optimizer": optimizer_name,
        "seed": seed,
        "values": values,
        "seconds_per_trial": own / n_trials,
    }


def done(path: Path) -> set[tuple[str, str, int]]:
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text().splitlines():
        r = json.loads(line)
        out.add((r["problem"], r["optimizer"], r["seed"]))
    return out


def table(path: Path, checkpoints: tuple[int, ...], markdown: bool = False) -> None:
    rows = []
    seen = set()
    for line in path.read_text().splitlines() if path.exists() else []:
        row = json.loads(line)
        key = (row["problem"], row["optimizer"], row["seed"])
        if key not in seen:  # runs in parallel environments may repeat a cell: the first counts
            seen.add(key)
            rows.append(row)
    if not rows:
        raise SystemExit(f"no results in {path}: run the optimizers first (see --help)")
    if not markdown:
        print(f"median over seeds of the best value after n trials ({path.name})")
    for problem in PROBLEMS:
        cols = ["optimizer", "seeds", *(f"n={c}" for c in checkpoints), "s/trial (optimizer)"]
        if markdown:
            print(f"\n**{problem}**\n")
            print("| " + " | ".join(cols) + " |")
            print("|" + "---|" * len(cols))
        else:
            print(f"\n{problem}")
            print("  " + " | ".join(f"{c:<9}" for c in cols))
        for name in OPTIMIZERS:
            runs = [r for r in rows if r["problem"] == problem and r["optimizer"] == name]
            if not runs:
                continue
            cells = [f"`{name}`" if markdown else name, str(len(runs))]
            for c in checkpoints:
                bests = [min(r["values"][:c]) for r in runs if len(r["values"]) >= c]
                cells.append(f"{statistics.median(bests):.4g}" if bests else "-")
            cells.append(f"{statistics.median(r['seconds_per_trial'] for r in runs):.3f}")
            if markdown:
                print("| " + " | ".join(cells) + " |")
            else:
                print("  " + " | ".join(f"{c:<9}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--optimizers", nargs="*", default=["random_search", "smac", "optuna"])
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="12 trials, 2 seeds")
    parser.add_argument("--table", action="store_true", help="print the table of the results")
    parser.add_argument("--markdown", action="store_true", help="the table as markdown")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.trials, args.seeds = 12, 2
    path = args.results or (RESULTS.with_suffix(".quick.jsonl") if args.quick else RESULTS)
    checkpoints = tuple(c for c in CHECKPOINTS if c <= args.trials) or (args.trials,)
    if args.table:
        table(path, checkpoints, markdown=args.markdown)
        return
    warnings.filterwarnings("ignore")  # the libraries' notices, not measured here
    import importlib.util
    import logging

    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)  # as HEBO sets it on import: one thread for every optimizer

    logging.getLogger("smac").setLevel(logging.ERROR)
    finished = done(path)
    for seed in range(args.seeds):  # seed by seed: an interrupted run still covers every cell
        for problem in args.problems:
            for name in args.optimizers:
                if (problem, name, seed) in finished:
                    continue
                t0 = time.perf_counter()
                result = run(problem, name, seed, args.trials)
                with path.open("a") as f:
                    f.write(json.dumps(result) + "\n")
                print(
                    f"{problem:<11} {name:<14} seed {seed}: best {min(result['values']):.4g} "
                    f"({time.perf_counter() - t0:.0f}s)",
                    flush=True,
                )
    table(path, checkpoints)


if __name__ == "__main__":
    main()
