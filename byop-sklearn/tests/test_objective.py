from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from byop.optimization import Trial
from byop.pipeline import Choice, Component, Float, Pipeline, request
from byop.run import optimize
from byop.sklearn import CVObjective

X, Y = load_iris(return_X_y=True)


def pipeline():
    return Pipeline(
        StandardScaler,
        Choice(
            Component(LogisticRegression, space={"C": Float(1e-3, 1e2, log=True)}),
            Component(
                DecisionTreeClassifier,
                space={"max_depth": (1, 8)},
                config={"random_state": request("seed", default=0)},
            ),
            name="clf",
        ),
    )


def test_one_line_objective_reports_the_mean_score_and_every_fold():
    objective = CVObjective(pipeline(), X, Y, scoring="accuracy", cv=4)
    assert objective.metric.name == "accuracy" and not objective.metric.minimize
    trial = Trial(name="t", config={"clf:__choice__": "DecisionTreeClassifier"}, seed=3)
    report = objective(trial)
    assert isinstance(report, Trial.SuccessReport)
    folds = report.results["fold_scores"]
    assert len(folds) == 4 and report["accuracy"] == pytest.approx(np.mean(folds))
    assert len(report.results["fit_times"]) == 4


def test_a_failing_fit_fails_the_trial_with_its_error():
    objective = CVObjective(Component(LogisticRegression, config={"C": -1.0}), X, Y, cv=2)
    report = objective(Trial(name="bad", config={}))
    assert isinstance(report, Trial.FailReport)
    assert "C" in str(report.exception)


def test_the_objective_pickles_with_its_data_and_runs_in_worker_processes():
    objective = CVObjective(pipeline(), X, Y, scoring="accuracy", cv=3)
    assert pickle.loads(pickle.dumps(objective)).name == "accuracy"
    history = optimize(
        objective,
        pipeline().space(),
        metrics=objective.metric,
        max_trials=4,
        n_workers=2,
        seed=1,
        progress="off",
        wall_time_limit=60,
    )
    assert len(history) == 4
    assert history.best()["accuracy"] > 0.8


def test_not_a_pipeline_says_how_to_wrap_it():
    with pytest.raises(TypeError, match="Fixed"):
        CVObjective(LogisticRegression(), X, Y)
    with pytest.raises(ValueError, match="one scorer"):
        CVObjective(pipeline(), X, Y, scoring={"a": "accuracy", "b": "f1_macro"})


def test_importing_the_objective_does_not_import_scikit_learn():
    import subprocess
    import sys

    code = (
        "import sys\nfrom byop.sklearn import CVObjective, build\n"
        "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
