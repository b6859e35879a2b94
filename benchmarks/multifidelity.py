"""Multi-fidelity: byop's Hyperband and ASHA against full-fidelity search and Optuna's pruning.

A real learner with an epoch-like fidelity on data scikit-learn ships: an ``MLPClassifier``
trained with ``partial_fit`` on the digits (70% to train, 30% to validate), from 1 to 27 epochs,
over its learning rate, L2 penalty, hidden width and batch size. Each method gets the same
wall-clock budget on 2 workers, for each of 3 seeds, in one run (the methods take turns, in an
order that rotates with the seed, so that the machine's load falls on all of them alike):

- ``byop hyperband`` and ``byop asha``: ``optimize(optimizer=..., fidelities=epochs 1..27,
  eta=3)``; a trial at ``e`` epochs trains a new model for ``e`` epochs;
- ``byop hyperband+tpe``: byop's Hyperband whose new configurations come from Optuna's TPE
  (through byop-optuna), told each configuration's result at the lowest rung;
- ``byop random (27 ep)``: byop's RandomSearch, every trial at the full 27 epochs;
- ``optuna tpe+hyperband``: Optuna natively, ``TPESampler`` with ``HyperbandPruner(1, 27, 3)``,
  ``study.optimize(n_jobs=2, timeout=budget)``; a trial trains epoch after epoch, reports the
  validation score after each and stops when pruned.

byop runs on its ``threads`` back end, as Optuna's ``n_jobs=2`` does (``--backend processes``
for byop's worker processes). BLAS is held to one thread, so that 2 workers use 2 cores.

Each finished trial contributes its final validation score (a pruned Optuna trial: its last
reported one), at the time it finished: a model trained for fewer epochs is a model too. The
table prints each method's best score so far at a quarter, half, three quarters and all of
the budget (median over seeds, and the range), then the time each method needs to reach
Optuna+Hyperband's median final score (median over seeds; "-" when it does not within the
budget). Targets: byop's best multi-fidelity method reaches Optuna+Hyperband's median final
score in no more time, and beats full-fidelity random search's final score.

    python benchmarks/multifidelity.py [--budget 16] [--seeds 3] [--backend threads]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from byop.optimization import Fidelity  # noqa: E402
from byop.pipeline import Float, Integer  # noqa: E402
from byop.run import optimize  # noqa: E402

MAX_EPOCHS = 27
EPOCHS = Fidelity("epochs", 1, MAX_EPOCHS, integer=True)
SPACE = {
    "learning_rate_init": Float(1e-4, 0.3, log=True),
    "alpha": Float(1e-7, 1e-1, log=True),
    "hidden": Integer(8, 128, log=True),
    "batch_size": Integer(16, 512, log=True),
}
X, Y = load_digits(return_X_y=True)
X_TRAIN, X_VALID, Y_TRAIN, Y_VALID = train_test_split(X / 16.0, Y, test_size=0.3, random_state=0)
CLASSES = np.arange(10)

Curve = list[tuple[float, float]]
"""(seconds since the method's start, a finished trial's validation score)."""


def model(config: dict[str, Any]) -> MLPClassifier:
    return MLPClassifier(
        hidden_layer_sizes=(int(config["hidden"]),),
        alpha=config["alpha"],
        learning_rate_init=config["learning_rate_init"],
        batch_size=int(config["batch_size"]),
        random_state=0,
    )


def train_and_score(config: dict[str, Any], epochs: int) -> float:
    learner = model(config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs):
            learner.partial_fit(X_TRAIN, Y_TRAIN, classes=CLASSES)
    return float(learner.score(X_VALID, Y_VALID))


def byop_objective(trial: Any) -> float:
    return train_and_score(dict(trial.config), int(trial.fidelities["epochs"]))


def hyperband_with_tpe(seed: int) -> Any:
    from byop.optimization import Hyperband, create_optimizer

    inner = create_optimizer("optuna", space=SPACE, seed=seed, metrics={"accuracy": "max"})
    return Hyperband(
        space=SPACE,
        fidelities=[EPOCHS],
        optimizer=inner,
        metrics={"accuracy": "max"},
        seed=seed,
    )


def run_byop(optimizer: Any, seed: int, budget: float, backend: str) -> Curve:
    fidelities = EPOCHS  # random search evaluates at the maximum
    if optimizer == "hyperband+tpe":
        optimizer = hyperband_with_tpe(seed)
    start = time.time()
    history = optimize(
        byop_objective,
        SPACE,
        optimizer=optimizer,
        fidelities=fidelities,
        metrics={"accuracy": "max"},
        seed=seed if isinstance(optimizer, str) else None,
        n_workers=2,
        backend=backend,
        timeout=budget,
        progress="off",
    )
    return sorted(
        (r.time.end - start, float(r["accuracy"])) for r in history if r.status.value == "success"
    )


def run_optuna(seed: int, budget: float) -> Curve:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    curve: Curve = []
    lock = threading.Lock()
    start = time.time()

    def objective(trial: optuna.Trial) -> float:
        config = {
            "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 0.3, log=True),
            "alpha": trial.suggest_float("alpha", 1e-7, 1e-1, log=True),
            "hidden": trial.suggest_int("hidden", 8, 128, log=True),
            "batch_size": trial.suggest_int("batch_size", 16, 512, log=True),
        }
        learner = model(config)
        score = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(1, MAX_EPOCHS + 1):
                learner.partial_fit(X_TRAIN, Y_TRAIN, classes=CLASSES)
                score = float(learner.score(X_VALID, Y_VALID))
                trial.report(score, epoch)
                if trial.should_prune():
                    with lock:
                        curve.append((time.time() - start, score))
                    raise optuna.TrialPruned()
        with lock:
            curve.append((time.time() - start, score))
        return score

    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3
        ),
    )
    study.optimize(objective, timeout=budget, n_jobs=2)
    # Trials still running at the deadline finish after it: what ends within it counts.
    return sorted(p for p in curve if p[0] <= budget)


def best_at(curve: Curve, t: float) -> float | None:
    scores = [s for when, s in curve if when <= t]
    return max(scores) if scores else None


def time_to(curve: Curve, target: float) -> float | None:
    best = -1.0
    for when, score in curve:
        best = max(best, score)
        if best >= target:
            return when
    return None


def fmt(values: list[float | None], digits: int = 4) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    median = statistics.median(known)
    spread = f" [{min(known):.{digits}f}-{max(known):.{digits}f}]" if len(known) > 1 else ""
    missing = f" ({len(values) - len(known)} none)" if len(known) < len(values) else ""
    return f"{median:.{digits}f}{spread}{missing}"


def seconds(value: float) -> str:
    return f"{value:.1f} s" if value != float("inf") else "more than the budget"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=16.0, help="seconds per method and seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--backend", default="threads", help="byop's back end")
    args = parser.parse_args()

    methods: dict[str, Callable[[int], Curve]] = {
        "byop hyperband": lambda s: run_byop("hyperband", s, args.budget, args.backend),
        "byop asha": lambda s: run_byop("asha", s, args.budget, args.backend),
        "byop hyperband+tpe": lambda s: run_byop("hyperband+tpe", s, args.budget, args.backend),
        "byop random (27 ep)": lambda s: run_byop("random_search", s, args.budget, args.backend),
        "optuna tpe+hyperband": lambda s: run_optuna(s, args.budget),
    }
    names = list(methods)
    total = args.budget * len(names) * args.seeds
    print(
        f"MLPClassifier on digits, epochs 1..{MAX_EPOCHS}, 2 workers (byop on {args.backend}), "
        f"{args.budget:g} s per method and seed, {args.seeds} seeds: about {total:.0f} s"
    )
    curves: dict[str, list[Curve]] = {n: [] for n in names}
    for seed in range(args.seeds):
        order = names[seed % len(names) :] + names[: seed % len(names)]
        for name in order:
            curve = methods[name](seed)
            curves[name].append(curve)
            print(
                f"  seed {seed}  {name:<22} {len(curve):>4} trials  "
                f"best {best_at(curve, args.budget) or float('nan'):.4f}",
                flush=True,
            )

    fractions = (0.25, 0.5, 0.75, 1.0)
    print()
    print("best validation accuracy so far (median over seeds [min-max])")
    header = "".join(f"{f'at {f * args.budget:g} s':>24}" for f in fractions)
    print(f"{'method':<22}{header}")
    for name in names:
        cells = "".join(
            f"{fmt([best_at(c, f * args.budget) for c in curves[name]]):>24}" for f in fractions
        )
        print(f"{name:<22}{cells}")

    reference = "optuna tpe+hyperband"
    finals = {n: [best_at(c, args.budget) for c in curves[n]] for n in names}
    known_ref = [v for v in finals[reference] if v is not None]
    if not known_ref:
        print("\nOptuna finished no trial within the budget: no reference.")
        return
    target = statistics.median(known_ref)
    print(f"\nseconds to reach {reference}'s median final score {target:.4f} (median over seeds)")
    reach: dict[str, float | None] = {}
    for name in names:
        times = [time_to(c, target) for c in curves[name]]
        known = [t for t in times if t is not None]
        # A seed that never reaches it counts as the budget's end (and is said so).
        reach[name] = statistics.median([t if t is not None else float("inf") for t in times])
        print(f"  {name:<22} {fmt(times, 1):>22}   ({len(known)}/{len(times)} seeds reach it)")

    mf = [n for n in names if n.startswith("byop") and "random" not in n]
    best_mf = min(
        mf,
        key=lambda n: (
            reach[n],
            -statistics.median([v for v in finals[n] if v is not None] or [0.0]),
        ),
    )
    rs_final = statistics.median([v for v in finals["byop random (27 ep)"] if v is not None] or [0])
    mf_final = statistics.median([v for v in finals[best_mf] if v is not None] or [0])
    ref_time = reach[reference]
    print()
    print(
        f"target 1: {best_mf} reaches it in {seconds(reach[best_mf])} vs Optuna's "
        f"{seconds(ref_time)}: "
        f"{'met' if reach[best_mf] <= ref_time else 'NOT met'}"
    )
    print(
        f"target 2: {best_mf}'s median final {mf_final:.4f} vs full-fidelity random search's "
        f"{rs_final:.4f}: {'met' if mf_final > rs_final else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
