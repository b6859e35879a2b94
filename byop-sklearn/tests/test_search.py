from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import RandomizedSearchCV
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from byop.pipeline import Choice, Component, Float, Pipeline
from byop.sklearn import ByopSearchCV

X, Y = load_iris(return_X_y=True)


def pipeline():
    return Pipeline(
        Choice(StandardScaler, MinMaxScaler, name="scaler"),
        Choice(
            Component(LogisticRegression, space={"C": Float(1e-3, 1e2, log=True)}),
            Component(DecisionTreeClassifier, space={"max_depth": (1, 8)}),
            name="clf",
        ),
    )


def test_fit_gives_what_randomized_search_gives():
    search = ByopSearchCV(pipeline(), n_trials=6, cv=3, seed=0, backend="sequential")
    search.fit(X, Y)
    peer = RandomizedSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, n_iter=2, cv=3).fit(X, Y)
    for key in (
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "params",
        "split0_test_score",
        "mean_fit_time",
        "std_score_time",
    ):
        assert key in search.cv_results_ and key in peer.cv_results_
        assert len(search.cv_results_[key]) == 6
    assert search.cv_results_["rank_test_score"].dtype == peer.cv_results_["rank_test_score"].dtype
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    assert search.n_splits_ == 3
    assert search.predict(X).shape == Y.shape
    assert search.predict_proba(X).shape == (len(Y), 3)
    assert list(search.classes_) == [0, 1, 2]
    assert 0.8 < search.score(X, Y) <= 1.0
    # param_<key> is masked where the key was not active.
    c = search.cv_results_["param_clf:LogisticRegression:C"]
    chosen = np.array([p["clf:__choice__"] for p in search.cv_results_["params"]])
    assert list(c.mask) == list(chosen != "LogisticRegression")


def test_runs_on_worker_processes_with_limits_and_smac():
    search = ByopSearchCV(
        pipeline(),
        optimizer="smac",
        n_trials=6,
        cv=3,
        n_workers=2,
        seed=1,
        scoring="accuracy",
        wall_time_limit=60,
        memory_limit="2GB",
    )
    search.fit(X, Y)
    assert search.best_score_ > 0.9
    assert len(search.history_) == 6
    assert set(search.cv_results_["status"]) == {"success"}


def test_regression_and_clone():
    Xr, yr = make_regression(n_samples=80, n_features=5, random_state=0)
    search = ByopSearchCV(
        Component(Ridge, space={"alpha": Float(1e-3, 1e2, log=True)}),
        n_trials=3,
        cv=3,
        seed=0,
        backend="sequential",
        scoring="neg_mean_squared_error",
    )
    assert clone(search).get_params()["n_trials"] == 3
    search.fit(Xr, yr)
    assert search.best_score_ <= 0 and search.predict(Xr).shape == yr.shape


def test_bad_parameters_and_all_failed_searches_say_why():
    with pytest.raises(ValueError, match="n_trials"):
        ByopSearchCV(pipeline(), n_trials=0).fit(X, Y)
    with pytest.raises(TypeError, match="byop pipeline"):
        ByopSearchCV(LogisticRegression()).fit(X, Y)
    broken = Component(LogisticRegression, config={"C": -1.0})
    with pytest.raises(ValueError, match=r"All the \d+ trials.*failed.*C"):
        ByopSearchCV(broken, n_trials=2, cv=2, backend="sequential").fit(X, Y)
    with pytest.raises(ValueError, match="C"):
        ByopSearchCV(broken, n_trials=2, cv=2, backend="sequential", error_score="raise").fit(X, Y)


@parametrize_with_checks(
    [
        ByopSearchCV(
            Component(LogisticRegression, space={"C": Float(1e-2, 1e2, log=True)}),
            n_trials=2,
            cv=2,
            backend="sequential",
            seed=0,
        ),
        ByopSearchCV(
            Component(Ridge, space={"alpha": Float(1e-2, 1e2, log=True)}),
            n_trials=2,
            cv=2,
            backend="sequential",
            seed=0,
        ),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
