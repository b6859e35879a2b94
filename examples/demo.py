"""byop's main job: tune a model with parallel trials under limits, stored and resumable.

The model is ridge regression on random Fourier features (an approximate RBF-kernel
regressor, in numpy), fitted to a synthetic regression problem (Friedman #1 with noise). Its
hyperparameters are the number of features, the kernel width, the regularisation and whether
the inputs are standardised; the cost is the validation RMSE from 3-fold cross-validation.

Two worker processes run the trials under a wall-time and a memory limit: the largest models
can break them, and those trials end as failures that byop reports and counts without
stopping the run. Every trial is stored in ``runs/``, so the run can be inspected
(``byop runs show``, ``byop runs plot``, ``byop dashboard``) and resumed if it is cut short.
It ends by printing the command that opens the dashboard on the run it made.

    python examples/demo.py                  # a new run, stored in runs/demo-<time>.jsonl
    python examples/demo.py runs/demo.jsonl  # that store: created, or resumed
"""

from __future__ import annotations

import os

# Two workers on two cores: one BLAS thread each, so that they do not fight over the cores.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from byop.optimization import Trial  # noqa: E402
from byop.pipeline import Categorical, Float, Integer, searchable  # noqa: E402
from byop.run import optimize  # noqa: E402

N_SAMPLES = 1200
N_INPUTS = 10


def dataset(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Friedman #1: y depends on five of the ten inputs, non-linearly, plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(N_SAMPLES, N_INPUTS))
    y = (
        10 * np.sin(np.pi * x[:, 0] * x[:, 1])
        + 20 * (x[:, 2] - 0.5) ** 2
        + 10 * x[:, 3]
        + 5 * x[:, 4]
        + rng.normal(0.0, 1.0, size=N_SAMPLES)
    )
    x[:, 5:] *= 50.0  # the irrelevant inputs on a larger scale: standardising matters
    return x, y


def fourier_ridge_rmse(config: dict, seed: int) -> float:
    """3-fold cross-validated RMSE of ridge regression on random Fourier features."""
    x, y = dataset()
    if config["standardize"]:
        x = (x - x.mean(axis=0)) / x.std(axis=0)
    rng = np.random.default_rng(seed)
    n_features = config["n_features"]
    weights = rng.normal(0.0, np.sqrt(2 * config["gamma"]), size=(N_INPUTS, n_features))
    offsets = rng.uniform(0.0, 2 * np.pi, size=n_features)
    z = np.sqrt(2.0 / n_features) * np.cos(x @ weights + offsets)
    folds = np.array_split(rng.permutation(N_SAMPLES), 3)
    errors = []
    for k, test in enumerate(folds):
        train = np.concatenate([f for j, f in enumerate(folds) if j != k])
        zt = z[train]
        gram = zt.T @ zt + config["alpha"] * np.eye(n_features)
        coef = np.linalg.solve(gram, zt.T @ (y[train] - y[train].mean()))
        pred = z[test] @ coef + y[train].mean()
        errors.append(np.mean((pred - y[test]) ** 2))
    return float(np.sqrt(np.mean(errors)))


def objective(trial: Trial) -> Trial.Report:
    """One trial: fit and score the model; a numerical failure is a failed trial."""
    with trial.begin():
        rmse = fourier_ridge_rmse(dict(trial.config), seed=trial.seed or 0)
        if not np.isfinite(rmse):
            raise FloatingPointError("the model's predictions are not finite")
        return trial.success(cost=rmse)
    return trial.fail()


def main() -> int:
    space = searchable(
        "model",
        space={
            "n_features": Integer(16, 6000, log=True),
            "gamma": Float(1e-3, 10.0, log=True),
            "alpha": Float(1e-8, 10.0, log=True),
            "standardize": Categorical((True, False)),
        },
    ).space()
    if len(sys.argv) > 1:
        store = Path(sys.argv[1])
    else:
        store = Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S.jsonl")
    history = optimize(
        objective,
        space,
        seed=42,
        n_workers=2,
        backend="processes",
        max_trials=60,
        timeout=50,
        wall_time_limit=3.0,
        memory_limit="512MB",
        store=store,
    )
    best = history.best()
    print(f"\nbest validation RMSE {best['cost']:.3f} from trial {best.trial.name}")
    print(f"inspect the run:  byop runs show {store}")
    print(f"plot its trace:   byop runs plot {store} -o trace.png")
    print(f"\nopen the dashboard on this run:\n    {dashboard_command(store)}")
    return 0


def dashboard_command(store: Path) -> str:
    """The one command that opens the dashboard on ``store``, from where the demo was run."""
    byop = Path(sys.executable).with_name("byop")
    here = Path.cwd()
    command = byop.relative_to(here) if byop.is_relative_to(here) else byop
    if not byop.exists():
        command = Path("byop")
    return f"{command} dashboard {store} --open"


if __name__ == "__main__":
    raise SystemExit(main())
