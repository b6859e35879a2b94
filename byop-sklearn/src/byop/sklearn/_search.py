"""`ByopSearchCV`: a scikit-learn search estimator on byop's optimizers, back ends and limits."""

from __future__ import annotations

import copy
import numbers
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import get_tags, metaestimators
from sklearn.utils.validation import check_is_fitted, indexable

from byop.optimization import Trial
from byop.pipeline import Node
from byop.scheduling import Scheduler
from byop.sklearn._objective import CVObjective, scorer_name
from byop.sklearn._results import cv_results

F = TypeVar("F", bound=Callable[..., Any])


def available_if(check: Callable[[Any], bool]) -> Callable[[F], F]:
    """scikit-learn's ``available_if``, typed."""
    decorator: Callable[[F], F] = metaestimators.available_if(check)
    return decorator


def _delegates(attr: str) -> Callable[[Any], bool]:
    """``attr`` is available when the (best, else the default) estimator has it."""

    def check(self: ByopSearchCV) -> bool:
        if not self.refit:
            raise AttributeError(f"{attr} is available only with refit=True.")
        estimator = getattr(self, "best_estimator_", None) or self._default_estimator()
        getattr(estimator, attr)
        return True

    return check


class ByopSearchCV(MetaEstimatorMixin, BaseEstimator):  # type: ignore[misc]
    """Search a byop pipeline's space with byop, scored by cross-validation, as scikit-learn does.

    In the mould of ``RandomizedSearchCV``: ``fit(X, y)`` runs ``n_trials`` trials, each
    configuring the pipeline, building it (``"sklearn"``) and cross-validating it
    (`CVObjective`), on any byop optimizer (``"random_search"``, ``"smac"``, ``"optuna"``),
    back end (``"processes"``, ``"dask"``, ``"ray"``...) and limits; then refits the best
    configuration on all the data. After ``fit``: ``best_estimator_``, ``best_params_`` (the
    best trial's config: byop's keys), ``best_score_``, ``best_index_``, ``cv_results_`` (as
    scikit-learn shapes it; a ``param_<key>`` is masked where the key was not active),
    ``n_splits_``, ``refit_time_``, ``scorer_``, ``history_`` (byop's `History`), and
    ``predict``, ``predict_proba``, ``decision_function``, ``transform``, ``score``... of the
    best estimator.

    Args:
        pipeline: The byop pipeline to search (its ``space()`` is searched).
        optimizer: A registered optimizer's name or an optimizer object.
        n_trials: How many configurations to evaluate.
        scoring: A scorer name, a scorer, or ``None`` for the estimator's ``score``.
        cv: Folds, a splitter or splits, as scikit-learn takes them.
        refit: Whether to refit the best configuration on all the data.
        n_workers: How many trials run at once.
        backend: A registered back end's name (``"processes"``, ``"threads"``,
            ``"sequential"``, ``"dask"``, ``"ray"``...).
        backend_options: Keyword options for the back end.
        seed: Seeds the optimizer; also every ``request("seed")`` of the pipeline.
        timeout: Seconds the search may take.
        memory_limit: Bytes (or ``"2GB"``) a trial may use.
        cpu_time_limit: Seconds of CPU time a trial may use.
        wall_time_limit: Seconds a trial may run.
        error_score: The score of a trial that fails (in ``cv_results_``), or ``"raise"`` to
            raise the first failure's error after the search.
        return_train_score: Whether ``cv_results_`` holds train scores too.
        optimizer_options: More keyword options for the optimizer.
        progress: byop's progress display (``"off"``, ``"auto"``, ``"bar"``, ``"lines"``).
        store: A file to store (and resume) the search in.
        threads: Threads for the numerical libraries in each trial (see `CVObjective`). By
            default, on this machine's back ends (processes, threads, sequential), its cores
            over ``n_workers``, as joblib does for its workers; elsewhere unlimited.

    Example:
        ```python
        from sklearn.datasets import load_iris
        from sklearn.tree import DecisionTreeClassifier

        from byop.pipeline import Component
        from byop.sklearn import ByopSearchCV

        X, y = load_iris(return_X_y=True)
        tree = Component(DecisionTreeClassifier, space={"max_depth": (1, 8)})
        search = ByopSearchCV(tree, n_trials=5, cv=3, seed=0, backend="sequential")
        search.fit(X, y)
        assert set(search.best_params_) == {"max_depth"} and search.best_score_ > 0.9
        assert search.predict(X[:2]).shape == (2,)
        ```
    """

    def __init__(
        self,
        pipeline: Node,
        *,
        optimizer: Any = "random_search",
        n_trials: int = 10,
        scoring: Any = None,
        cv: Any = 5,
        refit: bool = True,
        n_workers: int = 1,
        backend: str = "processes",
        backend_options: Mapping[str, Any] | None = None,
        seed: int | None = None,
        timeout: float | None = None,
        memory_limit: int | float | str | None = None,
        cpu_time_limit: float | None = None,
        wall_time_limit: float | None = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        optimizer_options: Mapping[str, Any] | None = None,
        progress: str | bool = "off",
        store: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.optimizer = optimizer
        self.n_trials = n_trials
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.n_workers = n_workers
        self.backend = backend
        self.backend_options = backend_options
        self.seed = seed
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.cpu_time_limit = cpu_time_limit
        self.wall_time_limit = wall_time_limit
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.optimizer_options = optimizer_options
        self.progress = progress
        self.store = store
        self.threads = threads

    # ---------------------------------------------------------------- helpers
    def _default_estimator(self) -> Any:
        if not isinstance(self.pipeline, Node):
            raise TypeError(
                f"ByopSearchCV takes a byop pipeline (byop.pipeline.Node), got "
                f"{type(self.pipeline).__name__}; wrap an estimator as Fixed(estimator) or "
                "Component(EstimatorClass, space=...)."
            )
        return self.pipeline.configure({}, params={"seed": self.seed}).build("sklearn")

    def _backend(self) -> tuple[Any, int]:
        """The back end, and how many trials to keep in flight on it.

        On worker processes, one trial more than there are workers: it waits in the back end's
        queue, so a worker that ends a trial starts the next at once while the optimizer is
        told and asked (a model-based optimizer's ask can take a second), instead of idling.
        """
        n = max(1, int(self.n_workers))
        if self.backend == "processes":
            options = dict(self.backend_options or {})
            return Scheduler.with_backend("processes", n_workers=n, **options), n + 1
        return self.backend, n

    def _threads(self) -> int | None:
        if self.threads is not None:
            return int(self.threads)
        if self.backend in ("processes", "threads", "sequential"):
            workers = 1 if self.backend == "sequential" else max(1, int(self.n_workers))
            return max(1, (os.cpu_count() or 1) // workers)
        return None

    def _check_params(self) -> None:
        self._default_estimator()
        n: Any = self.n_trials
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n_trials must be a positive int, got {n!r}.")
        if not (self.error_score == "raise" or isinstance(self.error_score, numbers.Real)):
            raise ValueError(f"error_score must be 'raise' or a number, got {self.error_score!r}.")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        try:
            inner = get_tags(self._default_estimator())
        except Exception:  # an unbuildable pipeline: fit says why
            return tags
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.transformer_tags = copy.deepcopy(inner.transformer_tags)
        tags.target_tags = copy.deepcopy(inner.target_tags)
        tags.input_tags.pairwise = inner.input_tags.pairwise
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags

    # ---------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> ByopSearchCV:
        """Run the search, then refit the best configuration on all of ``X``, ``y``.

        Raises:
            ValueError: Every trial failed (the message holds the first failure's error), or
                the parameters are not valid.
        """
        from byop.run import optimize

        self._check_params()
        default = self._default_estimator()
        if y is None and get_tags(default).target_tags.required:
            raise ValueError(
                f"{type(default).__name__} requires y to be passed, but the target y is None."
            )
        X, y, groups = indexable(X, y, groups)
        splitter = check_cv(self.cv, y, classifier=is_classifier(default))
        self.n_splits_ = splitter.get_n_splits(X, y, groups)
        objective = CVObjective(
            self.pipeline,
            X,
            y,
            scoring=self.scoring,
            cv=splitter,
            groups=groups,
            fit_params=fit_params,
            return_train_score=self.return_train_score,
            threads=self._threads(),
        )
        backend, in_flight = self._backend()
        self.history_ = optimize(
            objective,
            self.pipeline.space(),
            optimizer=self.optimizer,
            seed=self.seed,
            n_workers=in_flight,
            backend=backend,
            backend_options=None if isinstance(backend, Scheduler) else self.backend_options,
            max_trials=int(self.n_trials),
            timeout=self.timeout,
            memory_limit=self.memory_limit,
            cpu_time_limit=self.cpu_time_limit,
            wall_time_limit=self.wall_time_limit,
            store=self.store,
            progress=self.progress,  # type: ignore[arg-type]
            metrics=objective.metric,
            **dict(self.optimizer_options or {}),
        )
        reports = list(self.history_)
        failures = [r for r in reports if not isinstance(r, Trial.SuccessReport)]
        if failures and self.error_score == "raise":
            error = failures[0].exception
            raise error if error is not None else RuntimeError(f"trial {failures[0]} failed")
        if len(failures) == len(reports):
            raise _all_failed(failures, self.error_score)
        self.cv_results_ = cv_results(
            reports,
            self.pipeline.space(),
            n_splits=self.n_splits_,
            error_score=float(self.error_score) if self.error_score != "raise" else np.nan,
            return_train_score=self.return_train_score,
        )
        self.best_index_ = int(np.nanargmax(self.cv_results_["mean_test_score"]))
        self.best_params_ = dict(self.cv_results_["params"][self.best_index_])
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.multimetric_ = False
        self.scorer_name_ = scorer_name(self.scoring)
        if self.refit:
            estimator = objective.estimator(self.best_params_, self.seed)
            start = time.perf_counter()
            estimator.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
            self.best_estimator_ = estimator
            self.scorer_ = check_scoring(estimator, self.scoring)
            if hasattr(estimator, "n_features_in_"):
                self.n_features_in_ = estimator.n_features_in_
            if hasattr(estimator, "feature_names_in_"):
                self.feature_names_in_ = estimator.feature_names_in_
        return self

    # ---------------------------------------------------------------- the best estimator
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "cv_results_")

    def _best(self) -> Any:
        check_is_fitted(self)
        if not self.refit:
            raise AttributeError("The search was fitted with refit=False: no best estimator.")
        return self.best_estimator_

    @property
    def classes_(self) -> Any:
        """The classes of the best estimator."""
        return self._best().classes_

    def score(self, X: Any, y: Any = None) -> float:
        """The score of the best estimator on ``X``, ``y`` (with ``scoring``)."""
        best = self._best()
        return float(self.scorer_(best, X, y))

    @available_if(_delegates("predict"))
    def predict(self, X: Any) -> Any:
        """The best estimator's ``predict``."""
        return self._best().predict(X)

    @available_if(_delegates("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """The best estimator's ``predict_proba``."""
        return self._best().predict_proba(X)

    @available_if(_delegates("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """The best estimator's ``predict_log_proba``."""
        return self._best().predict_log_proba(X)

    @available_if(_delegates("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """The best estimator's ``decision_function``."""
        return self._best().decision_function(X)

    @available_if(_delegates("score_samples"))
    def score_samples(self, X: Any) -> Any:
        """The best estimator's ``score_samples``."""
        return self._best().score_samples(X)

    @available_if(_delegates("transform"))
    def transform(self, X: Any) -> Any:
        """The best estimator's ``transform``."""
        return self._best().transform(X)

    @available_if(_delegates("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        """The best estimator's ``inverse_transform``."""
        return self._best().inverse_transform(X)


def _all_failed(failures: list[Any], error_score: Any) -> Exception:
    """The error of a search whose every trial failed: of the trials' own type if they agree."""
    message = (
        f"All the {len(failures)} trials of the search failed, none could be scored "
        f"(error_score={error_score!r})."
    )
    errors = [f.exception for f in failures]
    first = errors[0] if errors else None
    if first is None:
        return ValueError(message)
    message += f" The first failed with {type(first).__name__}: {first}"
    if all(type(e) is type(first) for e in errors):
        try:
            same = type(first)(message)
        except Exception:  # an exception type that takes other arguments
            same = None
        if isinstance(same, Exception):
            same.__cause__ = first
            return same
    error = ValueError(f"{message}\n{failures[0].traceback or ''}")
    error.__cause__ = first
    return error
