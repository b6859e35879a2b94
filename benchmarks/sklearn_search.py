"""byop's search estimator against scikit-learn's and Optuna's, over the same pipeline space.

The space is the example's pipeline (examples/sklearn_pipeline.py): an imputer, a choice of
three scalers, a choice of four classifiers (SVC, random forest, logistic regression, k-nearest
neighbours), each with its own hyperparameters. Two data sets: digits (scikit-learn ships it)
and ``make_classification`` with 5,000 rows and 40 features. For each, ``--seeds`` seeds, the
same number of full evaluations (``--evals`` configurations, each a 3-fold cross-validation on
the same folds), 2 cores, all in this run:

- byop + SMAC and byop + random search: ``ByopSearchCV(n_workers=2)`` on worker processes;
- ``RandomizedSearchCV(n_jobs=2)``: the space as a list of dictionaries, one per classifier
  (so it samples the conditional space exactly);
- ``OptunaSearchCV(n_jobs=2)`` (optuna-integration): the space as a flat dictionary of Optuna
  distributions (it has no conditions: every hyperparameter is sampled on every trial, and the
  inactive ones are dropped when the pipeline is built).

Both peers search through the same estimator, which configures and builds the byop pipeline
from flat parameters. Printed: each method's median best CV accuracy and median wall time per
data set, every seed's figures, and the ratios to RandomizedSearchCV's. Targets: byop + SMAC's
median best CV score at least each peer's, its wall time at most 1.1x RandomizedSearchCV's.

    python benchmarks/sklearn_search.py [--evals 60] [--seeds 3] [--datasets digits,synthetic]
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold

from byop.pipeline import Categorical, Constant, Float, Integer, Space

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from sklearn_pipeline import PIPELINE

from byop.sklearn import ByopSearchCV

SPACE: Space = PIPELINE.space()
# Flat parameter names: no ":" and no "__" (scikit-learn's set_params would read it as nesting).
NAMES = {
    key: re.sub(r"_+", "_", re.sub(r"\W", "_", key.replace("__choice__", "choice")))
    for key in SPACE.names
}


# ---------------------------------------------------------------------- the peers' estimator
def _init_source() -> str:
    args = ", ".join(f"{name}=None" for name in NAMES.values())
    body = "\n".join(f"    self.{name} = {name}" for name in NAMES.values())
    return f"def __init__(self, {args}):\n{body}\n"


_namespace: dict[str, Any] = {}
exec(_init_source(), _namespace)  # an explicit signature, as scikit-learn's get_params wants


class FlatPipeline(ClassifierMixin, BaseEstimator):
    """The byop pipeline, configured from flat parameters (one per key of its space)."""

    __init__ = _namespace["__init__"]

    def fit(self, X, y):
        config = {key: getattr(self, name) for key, name in NAMES.items()}
        config = SPACE.active({k: v for k, v in config.items() if v is not None})
        self.model_ = PIPELINE.configure(config).build("sklearn").fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


class LogInt:
    """Integers uniform on a log scale (scipy has no such distribution)."""

    def __init__(self, low: int, high: int) -> None:
        self.dist = stats.loguniform(low - 0.5 + 1e-9, high + 0.5)
        self.low, self.high = low, high

    def rvs(self, random_state=None):
        value = round(float(self.dist.rvs(random_state=random_state)))
        return min(max(value, self.low), self.high)


def scipy_distribution(hp):
    if isinstance(hp, Float):
        if hp.log:
            return stats.loguniform(hp.lower, hp.upper)
        return stats.uniform(hp.lower, hp.upper - hp.lower)
    if isinstance(hp, Integer):
        return LogInt(hp.lower, hp.upper) if hp.log else stats.randint(hp.lower, hp.upper + 1)
    if isinstance(hp, Categorical):
        return list(hp.choices)
    assert isinstance(hp, Constant)
    return [hp.value]


def randomized_space() -> list[dict[str, Any]]:
    """One dictionary per classifier: the conditional space, sampled exactly."""
    choice = "classifier:__choice__"
    shared = {
        NAMES[hp.name]: scipy_distribution(hp)
        for hp in SPACE
        if not hp.name.startswith("classifier:")
    }
    out = []
    for classifier in SPACE[choice].choices:
        own = {
            NAMES[hp.name]: scipy_distribution(hp)
            for hp in SPACE
            if hp.name.startswith(f"classifier:{classifier}:")
        }
        out.append({**shared, NAMES[choice]: [classifier], **own})
    return out


def optuna_space() -> dict[str, Any]:
    """A flat dictionary of distributions: Optuna's search estimators have no conditions."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for hp in SPACE:
        if isinstance(hp, Float):
            out[NAMES[hp.name]] = FloatDistribution(hp.lower, hp.upper, log=hp.log)
        elif isinstance(hp, Integer):
            out[NAMES[hp.name]] = IntDistribution(hp.lower, hp.upper, log=hp.log)
        elif isinstance(hp, Categorical):
            out[NAMES[hp.name]] = CategoricalDistribution(list(hp.choices))
    return out


# ---------------------------------------------------------------------- the methods
def run_byop(optimizer: str, X, y, cv, evals: int, seed: int) -> tuple[float, float]:
    options = {"n_trials": evals} if optimizer == "smac" else {}
    search = ByopSearchCV(
        PIPELINE,
        optimizer=optimizer,
        n_trials=evals,
        cv=cv,
        scoring="accuracy",
        n_workers=2,
        seed=seed,
        refit=False,
        optimizer_options=options,
        wall_time_limit=300,
    )
    start = time.perf_counter()
    search.fit(X, y)
    return search.best_score_, time.perf_counter() - start


def run_randomized(X, y, cv, evals: int, seed: int) -> tuple[float, float]:
    search = RandomizedSearchCV(
        FlatPipeline(),
        randomized_space(),
        n_iter=evals,
        cv=cv,
        scoring="accuracy",
        n_jobs=2,
        random_state=seed,
        refit=False,
    )
    start = time.perf_counter()
    search.fit(X, y)
    return search.best_score_, time.perf_counter() - start


def run_optuna(X, y, cv, evals: int, seed: int) -> tuple[float, float]:
    import optuna
    from optuna_integration import OptunaSearchCV

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search = OptunaSearchCV(
        FlatPipeline(),
        optuna_space(),
        n_trials=evals,
        cv=cv,
        scoring="accuracy",
        n_jobs=2,
        random_state=seed,
        refit=False,
    )
    start = time.perf_counter()
    search.fit(X, y)
    return search.best_score_, time.perf_counter() - start


METHODS = {
    "byop+SMAC": lambda X, y, cv, n, s: run_byop("smac", X, y, cv, n, s),
    "byop+random": lambda X, y, cv, n, s: run_byop("random_search", X, y, cv, n, s),
    "RandomizedSearchCV": run_randomized,
    "OptunaSearchCV": run_optuna,
}


def dataset(name: str):
    if name == "digits":
        return load_digits(return_X_y=True)
    return make_classification(
        n_samples=5000, n_features=40, n_informative=20, n_classes=3, random_state=0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evals", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", default="digits,synthetic")
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    cv = StratifiedKFold(3)
    methods = args.methods.split(",")
    print(f"{args.evals} evaluations (3-fold CV), 2 workers, seeds 0..{args.seeds - 1}")
    for name in args.datasets.split(","):
        X, y = dataset(name)
        results: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
        for seed in range(args.seeds):
            for method in methods:
                score, seconds = METHODS[method](X, y, cv, args.evals, seed)
                results[method].append((score, seconds))
                print(
                    f"  {name} seed {seed} {method:<19} best CV {score:.4f}  {seconds:7.1f}s",
                    flush=True,
                )
        print(f"== {name} {X.shape}: medians over {args.seeds} seeds")
        reference = results.get("RandomizedSearchCV")
        ref_time = statistics.median(t for _, t in reference) if reference else math.nan
        for method in methods:
            score = statistics.median(s for s, _ in results[method])
            seconds = statistics.median(t for _, t in results[method])
            print(
                f"  {method:<19} best CV {score:.4f}  wall {seconds:7.1f}s  "
                f"time / RandomizedSearchCV {seconds / ref_time:.2f}x"
            )
        if "byop+SMAC" in results:
            smac = statistics.median(s for s, _ in results["byop+SMAC"])
            for peer in ("RandomizedSearchCV", "OptunaSearchCV"):
                if peer in results:
                    other = statistics.median(s for s, _ in results[peer])
                    verdict = "met" if smac >= other else "missed"
                    print(f"  byop+SMAC best CV {smac:.4f} vs {peer} {other:.4f}: {verdict}")
            smac_time = statistics.median(t for _, t in results["byop+SMAC"])
            ratio = smac_time / ref_time
            print(f"  byop+SMAC wall {ratio:.2f}x RandomizedSearchCV's (target <= 1.1x)")
    np.seterr(all="warn")


if __name__ == "__main__":
    main()
