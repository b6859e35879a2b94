"""Per-trial ask + tell through byop against the native ask/tell loop, in the same run.

Optuna (TPE, 200 trials) and SMAC (HPO facade, 50 trials): each loop proposes exactly the same
configurations (checked), so the difference is byop's wrapping: building the Trial, its report,
and translating the tell. Runs alternate native / byop / byop / native so that a drift of the
(shared, noisy) machine falls on both. The figure per side is its fastest run (the least
disturbed by other work on the machine); the mean of its runs is printed beside it.

Target: ratio byop / native <= 1.05.

Run: .venv/bin/python benchmarks/optimizer_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable
from typing import Any

from byop.pipeline import Categorical, Float, Integer, Space

SPACE = Space(
    [
        Float(-5.0, 5.0, name="x"),
        Float(1e-3, 1.0, log=True, name="lr"),
        Integer(1, 32, name="n"),
        Categorical(["a", "b", "c"], name="kind"),
    ]
)


def objective(config: dict[str, Any]) -> float:
    return (
        (config["x"] - 1.0) ** 2
        + abs(math.log(config["lr"]) + 3)
        + config["n"] / 32
        + (0.5 if config["kind"] == "b" else 0.0)
    )


# ---------------------------------------------------------------------- optuna
def optuna_native(n: int, seed: int) -> list[dict[str, Any]]:
    import optuna

    from byop.optuna import to_optuna

    distributions = to_optuna(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    configs = []
    for _ in range(n):
        trial = study.ask(distributions)
        configs.append(trial.params)
        study.tell(trial, objective(trial.params))
    return configs


def optuna_byop(n: int, seed: int) -> list[dict[str, Any]]:
    from byop.optimization import create_optimizer

    optimizer = create_optimizer("optuna", space=SPACE, seed=seed)
    configs = []
    for _ in range(n):
        trial = optimizer.ask()
        configs.append(dict(trial.config))
        with trial.begin():
            report = trial.success(cost=objective(dict(trial.config)))
        optimizer.tell(report)
    return configs


# ---------------------------------------------------------------------- smac
def smac_native(n: int, seed: int) -> list[dict[str, Any]]:
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory import TrialValue

    from byop.configspace import to_configspace

    with tempfile.TemporaryDirectory() as directory:
        scenario = Scenario(
            to_configspace(SPACE),
            deterministic=True,
            n_trials=n,
            seed=seed,
            output_directory=directory,
        )
        facade = HyperparameterOptimizationFacade(
            scenario, None, overwrite=True, logging_level=False
        )
        configs = []
        for _ in range(n):
            info = facade.ask()
            config = dict(info.config)
            configs.append({k: config[k] for k in SPACE.names})
            # save=False: byop's default temporary run directory is not written per tell either.
            facade.tell(info, TrialValue(cost=objective(config)), save=False)
    return configs


def smac_byop(n: int, seed: int) -> list[dict[str, Any]]:
    from byop.optimization import create_optimizer

    optimizer = create_optimizer("smac", space=SPACE, seed=seed, n_trials=n)
    configs = []
    for _ in range(n):
        trial = optimizer.ask()
        configs.append(dict(trial.config))
        with trial.begin():
            report = trial.success(cost=objective(dict(trial.config)))
        optimizer.tell(report)
    optimizer.close()
    return configs


def same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    return [{k: str(v) for k, v in c.items()} for c in a] == [
        {k: str(v) for k, v in c.items()} for c in b
    ]


def compare(
    title: str,
    native: Callable[[int, int], list[dict[str, Any]]],
    ours: Callable[[int, int], list[dict[str, Any]]],
    n: int,
    rounds: int,
) -> float:
    native(min(n, 3), 0)  # warm up: imports and first-call costs on both sides
    ours(min(n, 3), 0)
    times: dict[str, list[float]] = {"native": [], "byop": []}
    reference: list[dict[str, Any]] | None = None
    for r in range(rounds):
        order = [("native", native), ("byop", ours)]
        if r % 2:
            order.reverse()
        for side, loop in order:
            start = time.perf_counter()
            configs = loop(n, 1)
            times[side].append(time.perf_counter() - start)
            if reference is None:
                reference = configs
            elif not same(configs, reference):
                raise SystemExit(f"{title}: {side} proposed other configurations than native")
    best = {side: min(ts) / n for side, ts in times.items()}
    mean = {side: sum(ts) / len(ts) / n for side, ts in times.items()}
    ratio = best["byop"] / best["native"]
    print(
        f"{title:<16} {n:>4} trials x {rounds} runs each | "
        f"native {best['native'] * 1e3:8.3f} ms/trial (mean {mean['native'] * 1e3:8.3f}) | "
        f"byop {best['byop'] * 1e3:8.3f} ms/trial (mean {mean['byop'] * 1e3:8.3f}) | "
        f"ratio {ratio:5.3f} (means {mean['byop'] / mean['native']:5.3f}) "
        f"{'ok' if ratio <= 1.05 else 'ABOVE 1.05'}"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer trials (a smoke run)")
    args = parser.parse_args()
    import logging

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("smac").setLevel(logging.WARNING)
    if args.quick:
        compare("Optuna TPE", optuna_native, optuna_byop, 30, 2)
        compare("SMAC HPO facade", smac_native, smac_byop, 8, 2)
        return
    compare("Optuna TPE", optuna_native, optuna_byop, 200, 4)
    compare("SMAC HPO facade", smac_native, smac_byop, 50, 4)


if __name__ == "__main__":
    main()
