"""Tune a whole scikit-learn pipeline with SMAC on 2 worker processes, under limits.

The pipeline: an imputer (its strategy searched), a choice of scaler, and a choice of classifier
between an SVC, a random forest, a logistic regression and k-nearest neighbours, each with its
own hyperparameters. Every hyperparameter of a classifier is active only when that classifier is
chosen: SMAC searches the conditional space, and each trial's config holds only the active keys.

Each trial configures the pipeline, builds it with scikit-learn and cross-validates it
(`CVObjective`) in a worker process, under a memory and a wall-time limit. The best
configuration is then refit on the training data and scored on held-out data.

Run: python examples/sklearn_pipeline.py [--trials 30] [--seed 0]
Needs: pip install byop[smac,sklearn]
"""

from __future__ import annotations

import argparse
import time

from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
from sklearn.svm import SVC

from byop.pipeline import Categorical, Choice, Component, Float, Integer, Pipeline, request
from byop.run import optimize
from byop.sklearn import CVObjective

PIPELINE = Pipeline(
    Component(SimpleImputer, space={"strategy": ["mean", "median"]}),
    Choice(StandardScaler, MinMaxScaler, RobustScaler, name="scaler"),
    Choice(
        Component(
            SVC,
            space={"C": Float(1e-2, 1e3, log=True), "gamma": Float(1e-5, 1e-1, log=True)},
            config={"random_state": request("seed", default=0)},
        ),
        Component(
            RandomForestClassifier,
            space={
                "n_estimators": Integer(10, 100, log=True),
                "max_depth": Integer(2, 30, log=True),
                "max_features": Categorical(["sqrt", "log2"]),
            },
            config={"random_state": request("seed", default=0), "n_jobs": 1},
        ),
        Component(
            LogisticRegression,
            space={"C": Float(1e-3, 1e2, log=True)},
            config={"max_iter": 1000},
        ),
        Component(
            KNeighborsClassifier,
            space={"n_neighbors": Integer(1, 30), "weights": ["uniform", "distance"]},
        ),
        name="classifier",
    ),
    name="pipeline",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=args.seed)
    objective = CVObjective(PIPELINE, X_train, y_train, scoring="accuracy", cv=3)

    start = time.perf_counter()
    history = optimize(
        objective,
        PIPELINE.space(),
        optimizer="smac",
        seed=args.seed,
        n_workers=2,
        backend="processes",
        max_trials=args.trials,
        memory_limit="1GB",
        wall_time_limit=60,
        metrics=objective.metric,
        progress="off",
        n_trials=args.trials,
    )
    seconds = time.perf_counter() - start

    best = history.best()
    chosen = {}
    for report in history:
        name = report.trial.config["classifier:__choice__"]
        chosen[name] = chosen.get(name, 0) + 1
    counts = {status.value: n for status, n in history.counts().items() if n}
    print(f"{len(history)} trials in {seconds:.1f}s")
    print(f"statuses: {counts}")
    print(f"classifiers tried: {chosen}")
    print(f"best configuration: {dict(best.trial.config)}")
    print(f"best cv accuracy: {best['accuracy']:.4f} (folds {best.results['fold_scores']})")

    model = PIPELINE.configure(best.trial.config, params={"seed": args.seed}).build("sklearn")
    model.fit(X_train, y_train)
    print(f"held-out accuracy: {model.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
