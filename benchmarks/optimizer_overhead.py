"""Per-trial ask + tell through byop against the native ask/tell loop, in the same run.

Optuna (TPE, 200 trials), SMAC (HPO facade, 50 trials), NePS (random search and Hyperband, 200
trials; Bayesian optimization, 8) and HEBO (Sobol design then the model, 8 trials): each loop
proposes exactly the same configurations (checked), so the difference is byop's wrapping:
building the Trial, its report, translating the tell, and (NePS, HEBO) the seeded random
streams around each call into the library, which the native loop gets by seeding the global
generators once. Runs alternate native / byop / byop / native so that a drift of the
(shared, noisy) machine falls on both. The figure per side is its fastest run (the least
disturbed by other work on the machine); the mean of its runs is printed beside it.

Target: ratio byop / native <= 1.05. For NePS and HEBO the time each loop spends outside the
library's own ask and tell methods is printed too: what byop adds, measured apart from the
library's time, which on a shared machine varies from run to run by far more than that. And
each side's CPU time: on a loaded machine wall times swing with the other work (the time spent
waiting for a core falls anywhere, often on byop's clock reads), CPU time much less.

Each part runs where its library is installed: NePS in .venv-neps, HEBO in .venv-hebo
(scripts/optimizer-venvs install), Optuna and SMAC in .venv (and .venv-hebo).

Run: .venv/bin/python benchmarks/optimizer_overhead.py [--quick] [--only ...] [--rounds N]
     .venv-neps/bin/python benchmarks/optimizer_overhead.py [--quick]
     .venv-hebo/bin/python benchmarks/optimizer_overhead.py [--quick]
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


# ---------------------------------------------------------------------- neps, hebo
def _seed_globals(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


NEPS_BO = {"initial_design_size": 4, "num_restarts": 2, "n_initial_start_points": 32}


def neps_native(algorithm: str, **options: Any) -> Callable[[int, int], list[dict[str, Any]]]:
    def loop(n: int, seed: int) -> list[dict[str, Any]]:
        import neps

        from byop.neps import to_neps
        from byop.optimization import Fidelity

        fidelities = [Fidelity("epochs", 1, 27, integer=True)] if algorithm == "hyperband" else []
        converted = to_neps(SPACE, fidelities=fidelities)
        _seed_globals(seed)
        at = neps.AskAndTell(getattr(neps.algorithms, algorithm)(converted.search_space, **options))
        raw = []
        for _ in range(n):
            trial = at.ask()
            raw.append(trial.config)
            at.tell(trial, objective(trial.config))
        return [converted.config(c) for c in raw]

    return loop


def neps_byop(algorithm: str, **options: Any) -> Callable[[int, int], list[dict[str, Any]]]:
    def loop(n: int, seed: int) -> list[dict[str, Any]]:
        from byop.optimization import Fidelity, create_optimizer

        if algorithm == "hyperband":
            options["fidelities"] = Fidelity("epochs", 1, 27, integer=True)
        optimizer = create_optimizer("neps", space=SPACE, seed=seed, algorithm=algorithm, **options)
        configs = []
        for _ in range(n):
            trial = optimizer.ask()
            configs.append(dict(trial.config))
            with trial.begin():
                report = trial.success(cost=objective(dict(trial.config)))
            optimizer.tell(report)
        return configs

    return loop


def hebo_native(n: int, seed: int) -> list[dict[str, Any]]:
    import numpy as np
    from hebo.optimizers.hebo import HEBO

    from byop.hebo import to_hebo

    converted = to_hebo(SPACE)
    _seed_globals(seed)
    optimizer = HEBO(converted.design_space, scramble_seed=seed)
    raw = []
    for _ in range(n):
        row = optimizer.suggest(n_suggestions=1)
        raw.append(row)
        config = row.to_dict("records")[0]
        optimizer.observe(row, np.array([[objective(config)]]))
    return [converted.config(r.to_dict("records")[0]) for r in raw]


def hebo_byop(n: int, seed: int) -> list[dict[str, Any]]:
    from byop.optimization import create_optimizer

    optimizer = create_optimizer("hebo", space=SPACE, seed=seed)
    configs = []
    for _ in range(n):
        trial = optimizer.ask()
        configs.append(dict(trial.config))
        with trial.begin():
            report = trial.success(cost=objective(dict(trial.config)))
        optimizer.tell(report)
    return configs


def same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    return [{k: str(v) for k, v in c.items()} for c in a] == [
        {k: str(v) for k, v in c.items()} for c in b
    ]


class LibraryClock:
    """Time spent inside a library's own methods (patched on their classes while in use)."""

    def __init__(self, methods: list[tuple[type, str]]) -> None:
        self.methods = methods
        self.seconds = 0.0

    def __enter__(self) -> LibraryClock:
        self.seconds = 0.0
        # (class, name, the class's own attribute or None when inherited, the method)
        self._originals = [
            (cls, name, cls.__dict__.get(name), getattr(cls, name)) for cls, name in self.methods
        ]
        for cls, name, _, method in self._originals:
            setattr(cls, name, self._timed(method))
        return self

    def _timed(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed

    def __exit__(self, *exc: object) -> None:
        for cls, name, own, _ in self._originals:
            if own is None:
                delattr(cls, name)
            else:
                setattr(cls, name, own)


def compare(
    title: str,
    native: Callable[[int, int], list[dict[str, Any]]],
    ours: Callable[[int, int], list[dict[str, Any]]],
    n: int,
    rounds: int,
    library: list[tuple[type, str]] | None = None,
) -> float:
    """Print both loops' time per trial and their ratio; with ``library`` (the library's ask
    and tell methods), also the time each loop spends outside them: byop's own cost, measured
    apart from the library's, whose time varies from run to run far more than byop's cost on
    a shared machine (Bayesian optimization: seconds a trial)."""
    native(min(n, 3), 0)  # warm up: imports and first-call costs on both sides
    ours(min(n, 3), 0)
    times: dict[str, list[float]] = {"native": [], "byop": []}
    cpu: dict[str, list[float]] = {"native": [], "byop": []}
    outside: dict[str, list[float]] = {"native": [], "byop": []}
    clock = LibraryClock(library or [])
    reference: list[dict[str, Any]] | None = None
    for r in range(rounds):
        order = [("native", native), ("byop", ours)]
        if r % 2:
            order.reverse()
        for side, loop in order:
            with clock:
                start, start_cpu = time.perf_counter(), time.process_time()
                configs = loop(n, 1)
                elapsed = time.perf_counter() - start
                cpu[side].append(time.process_time() - start_cpu)
            times[side].append(elapsed)
            outside[side].append(elapsed - clock.seconds)
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
    cpu_best = {side: min(ts) / n for side, ts in cpu.items()}
    print(
        f"{'':<16} CPU time (what the machine's other work does not inflate): native "
        f"{cpu_best['native'] * 1e3:8.3f} ms/trial, byop {cpu_best['byop'] * 1e3:8.3f} ms/trial: "
        f"ratio {cpu_best['byop'] / cpu_best['native']:5.3f}"
    )
    if library:
        own = {side: min(ts) / n for side, ts in outside.items()}
        added = own["byop"] - own["native"]
        print(
            f"{'':<16} outside the library's ask/tell: native {own['native'] * 1e3:8.3f} "
            f"ms/trial, byop {own['byop'] * 1e3:8.3f} ms/trial: byop adds "
            f"{added * 1e3:.3f} ms/trial = {added / best['native']:.2%} of the native loop's "
            f"time per trial {'ok' if added / best['native'] <= 0.05 else 'ABOVE 5%'}"
        )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer trials (a smoke run)")
    parser.add_argument(
        "--only",
        nargs="*",
        help="optuna, smac, neps (or one of neps-random, neps-hyperband, neps-bo), hebo "
        "(default: all installed)",
    )
    parser.add_argument("--rounds", type=int, help="runs per side (default: 4; 2 for BO, HEBO)")
    args = parser.parse_args()
    import importlib.util
    import logging
    import warnings

    warnings.filterwarnings("ignore")  # the libraries' deprecation notices, not measured here
    wanted = set(args.only or ["optuna", "smac", "neps", "hebo"])
    all_neps = {"neps-random", "neps-hyperband", "neps-bo"}
    neps_parts = (wanted & all_neps) or all_neps
    if wanted & all_neps:
        wanted = (wanted - all_neps) | {"neps"}
    unknown = wanted - {"optuna", "smac", "neps", "hebo"}
    if unknown:
        parser.error(f"unknown --only {sorted(unknown)}")
    installed = {
        name: importlib.util.find_spec(name) is not None
        and importlib.util.find_spec(f"byop.{name}")
        for name in ("optuna", "smac", "neps", "hebo")
    }
    for name in sorted(wanted):
        if not installed[name]:
            print(f"{name:<16} not installed here: skipped (see this file's docstring)")
    quick = args.quick
    if "optuna" in wanted and installed["optuna"]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        compare("Optuna TPE", optuna_native, optuna_byop, 30 if quick else 200, 2 if quick else 4)
    if "smac" in wanted and installed["smac"]:
        logging.getLogger("smac").setLevel(logging.WARNING)
        compare("SMAC HPO facade", smac_native, smac_byop, 8 if quick else 50, 2 if quick else 4)
    if "neps" in wanted and installed["neps"]:
        import neps

        for part, title, algorithm, options, n, rounds in (
            ("neps-random", "NePS random", "random_search", {}, 200, 4),
            ("neps-hyperband", "NePS hyperband", "hyperband", {}, 200, 4),
            ("neps-bo", "NePS BO", "bayesian_optimization", NEPS_BO, 8, 2),
        ):
            if part not in neps_parts:
                continue
            compare(
                title,
                neps_native(algorithm, **options),
                neps_byop(algorithm, **options),
                max(2, n // 10) if quick else n,
                2 if quick else args.rounds or rounds,
                library=[(neps.AskAndTell, "ask"), (neps.AskAndTell, "tell")],
            )
    if "hebo" in wanted and installed["hebo"]:
        from hebo.optimizers.hebo import HEBO

        compare(
            "HEBO",
            hebo_native,
            hebo_byop,
            6 if quick else 8,
            2 if quick else args.rounds or 2,
            library=[(HEBO, "suggest"), (HEBO, "observe")],
        )


if __name__ == "__main__":
    main()
