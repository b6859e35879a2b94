"""`CVObjective`: a pipeline and data as an objective, scored by cross-validation."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from typing import Any

from byop.optimization import Metric, Report, Trial
from byop.pipeline import Node
from byop.plugins import import_optional
from byop.sklearn._builder import INSTALL, sklearn_module

FOLD_SCORES = "fold_scores"
"""The results key of the per-fold test scores (a list, one per split)."""

FOLD_TRAIN_SCORES = "fold_train_scores"
"""The results key of the per-fold train scores (with ``return_train_score=True``)."""

FIT_TIMES = "fit_times"
"""The results key of the per-fold fit times, in seconds."""

SCORE_TIMES = "score_times"
"""The results key of the per-fold score times, in seconds."""


def scorer_name(scoring: Any) -> str:
    """The metric name of ``scoring``: its string, a scorer's function name, or ``score``."""
    if scoring is None:
        return "score"
    if isinstance(scoring, str):
        return scoring
    if isinstance(scoring, Mapping):
        if len(scoring) != 1:
            raise ValueError(
                f"byop scores a trial with one scorer; scoring= names {len(scoring)}: "
                f"{sorted(scoring)}. Pass one, e.g. scoring='accuracy'."
            )
        return str(next(iter(scoring)))
    function = getattr(scoring, "_score_func", scoring)
    return str(getattr(function, "__name__", "score"))


class CVObjective:
    """An objective that configures a pipeline with the trial, builds it, and cross-validates it.

    One line turns a pipeline and data into what ``optimize`` runs::

        objective = CVObjective(pipeline, X, y, scoring="accuracy", cv=5)
        history = optimize(objective, pipeline.space(), metrics=objective.metric, ...)

    Each trial configures the pipeline with ``trial.config`` (``request("seed")`` gets the
    trial's seed), builds it with the ``"sklearn"`` builder and runs scikit-learn's
    ``cross_validate``. The report's metric, named after the scorer (``accuracy``; ``score``
    for the estimator's own), is the mean test score (greater is better: `metric` says so);
    the report also keeps the per-fold test scores (``fold_scores``), fit and score times
    (``fit_times``, ``score_times``) and, if asked for, train scores (``fold_train_scores``).
    A fold that fails, or scores NaN, fails the trial.

    The data travels with the objective: once per worker per run on every back end.

    Args:
        pipeline: The byop pipeline (a `byop.pipeline.Node`).
        X: The features.
        y: The targets (``None`` for unsupervised estimators).
        scoring: A scorer name (``"accuracy"``, ``"neg_log_loss"``), a scorer, a one-entry
            dict of them, or ``None`` for the estimator's own ``score``.
        cv: Folds (an int), a splitter, or an iterable of splits, as scikit-learn takes.
        groups: Group labels for group splitters.
        params: More values for the pipeline's ``request(...)`` placeholders.
        fit_params: Keyword arguments for every fit (routed as scikit-learn routes them).
        return_train_score: Whether to score the training folds too.
        threads: How many threads the numerical libraries (BLAS, OpenMP) may use in each
            trial (``threadpoolctl``), as joblib limits its workers: with ``n`` trials at once
            on ``c`` cores, ``c // n`` keeps them from fighting over the cores. ``None``
            leaves them alone.

    Example:
        ```python
        from sklearn.datasets import load_iris
        from sklearn.tree import DecisionTreeClassifier

        from byop.optimization import Trial
        from byop.pipeline import Component
        from byop.sklearn import CVObjective

        X, y = load_iris(return_X_y=True)
        tree = Component(DecisionTreeClassifier, space={"max_depth": (1, 8)})
        objective = CVObjective(tree, X, y, scoring="accuracy", cv=3)
        trial = Trial(name="t", config={"max_depth": 3})
        report = objective(trial)
        assert report.results["accuracy"] > 0.9 and len(report.results["fold_scores"]) == 3
        ```
    """

    def __init__(
        self,
        pipeline: Node,
        X: Any,
        y: Any = None,
        *,
        scoring: str | Callable[..., float] | Mapping[str, Any] | None = None,
        cv: Any = 5,
        groups: Any = None,
        params: Mapping[str, Any] | None = None,
        fit_params: Mapping[str, Any] | None = None,
        return_train_score: bool = False,
        threads: int | None = None,
    ) -> None:
        if not isinstance(pipeline, Node):
            raise TypeError(
                f"CVObjective takes a byop pipeline (byop.pipeline.Node), got "
                f"{type(pipeline).__name__}; wrap an estimator as Fixed(estimator) or "
                "Component(EstimatorClass, space=...)."
            )
        self.pipeline = pipeline
        self.X = X
        self.y = y
        self.scoring = scoring
        self.cv = cv
        self.groups = groups
        self.params = dict(params or {})
        self.fit_params = dict(fit_params or {})
        self.return_train_score = return_train_score
        if threads is not None and (isinstance(threads, bool) or threads < 1):
            raise ValueError(f"threads must be a positive int or None, got {threads!r}.")
        self.threads = threads
        self.name = scorer_name(scoring)
        self.__qualname__ = f"CVObjective[{self.name}]"  # how the scheduler names it

    @property
    def metric(self) -> Metric:
        """The metric the reports hold: the mean test score, maximised."""
        return Metric(self.name, minimize=False)

    def estimator(self, config: Mapping[str, Any], seed: int | None = None) -> Any:
        """The scikit-learn estimator of ``config`` (unfitted)."""
        params = {"seed": seed, **self.params}
        return self.pipeline.configure(config, params=params).build("sklearn")

    def __call__(self, trial: Trial[Any]) -> Report[Any]:
        """Cross-validate the trial's configuration; a success holds the mean score."""
        model_selection = sklearn_module("sklearn.model_selection")
        with trial.begin():
            estimator = self.estimator(trial.config, trial.seed)
            scoring: Any = self.scoring
            if isinstance(scoring, Mapping):
                scoring = next(iter(scoring.values()))
            limit: Any = contextlib.nullcontext()
            if self.threads is not None:
                threadpoolctl = import_optional("threadpoolctl", install=INSTALL)
                limit = threadpoolctl.threadpool_limits(limits=self.threads)
            with limit:
                out = model_selection.cross_validate(
                    estimator,
                    self.X,
                    self.y,
                    groups=self.groups,
                    scoring=scoring,
                    cv=self.cv,
                    params=self.fit_params or None,
                    return_train_score=self.return_train_score,
                    error_score="raise",
                )
            folds = [float(s) for s in out["test_score"]]
            results: dict[str, Any] = {
                FOLD_SCORES: folds,
                FIT_TIMES: [float(t) for t in out["fit_time"]],
                SCORE_TIMES: [float(t) for t in out["score_time"]],
            }
            if self.return_train_score:
                results[FOLD_TRAIN_SCORES] = [float(s) for s in out["train_score"]]
            if any(math.isnan(s) for s in folds):
                raise ValueError(f"the {self.name} scorer gave NaN on a fold: {folds}")
            results[self.name] = sum(folds) / len(folds)
            return trial.success(**results)
        return trial.fail()

    def __repr__(self) -> str:
        return f"CVObjective({self.pipeline.name!r}, scoring={self.name!r}, cv={self.cv!r})"
