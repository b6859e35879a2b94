"""``cv_results_`` as scikit-learn shapes it, from byop's reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from byop.optimization import Report, Trial
from byop.pipeline import Space
from byop.sklearn._objective import FIT_TIMES, FOLD_SCORES, FOLD_TRAIN_SCORES, SCORE_TIMES


def _folds(report: Report[Any], key: str, n_splits: int, fill: float) -> list[float]:
    values = report.results.get(key) if isinstance(report, Trial.SuccessReport) else None
    if not isinstance(values, list) or len(values) != n_splits:
        return [fill] * n_splits
    return [float(v) for v in values]


def _rank(scores: np.ndarray) -> np.ndarray:
    """Rank 1 for the best; ties share the smallest rank; NaN ranks last."""
    filled = np.where(np.isnan(scores), -np.inf, scores)
    order = np.sort(filled)[::-1]
    return np.searchsorted(-order, -filled, side="left").astype(np.int32) + 1


def cv_results(
    reports: Sequence[Report[Any]],
    space: Space,
    *,
    n_splits: int,
    error_score: float,
    return_train_score: bool,
) -> dict[str, Any]:
    """The search's results, one entry per trial, keys as ``RandomizedSearchCV``'s.

    ``param_<key>`` is a masked array (masked where the key was not active in the trial);
    ``params`` the trial configs; ``split<i>_test_score``, ``mean_test_score``,
    ``std_test_score``, ``rank_test_score``; fit and score times; train scores if asked for.
    byop adds ``trial_name`` and ``status``.
    """
    n = len(reports)
    out: dict[str, Any] = {}
    fit = np.array([_folds(r, FIT_TIMES, n_splits, np.nan) for r in reports]).reshape(n, n_splits)
    score = np.array([_folds(r, SCORE_TIMES, n_splits, np.nan) for r in reports]).reshape(
        n, n_splits
    )
    with np.errstate(all="ignore"):
        out["mean_fit_time"] = np.nan_to_num(fit).mean(axis=1)
        out["std_fit_time"] = np.nan_to_num(fit).std(axis=1)
        out["mean_score_time"] = np.nan_to_num(score).mean(axis=1)
        out["std_score_time"] = np.nan_to_num(score).std(axis=1)
    for key in space.names:
        column = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for i, report in enumerate(reports):
            if key in report.trial.config:
                column[i] = report.trial.config[key]
        out[f"param_{key}"] = column
    out["params"] = [dict(r.trial.config) for r in reports]
    kinds = [("test", FOLD_SCORES)]
    if return_train_score:
        kinds.append(("train", FOLD_TRAIN_SCORES))
    for kind, key in kinds:
        scores = np.array([_folds(r, key, n_splits, error_score) for r in reports]).reshape(
            n, n_splits
        )
        for split in range(n_splits):
            out[f"split{split}_{kind}_score"] = scores[:, split]
        with np.errstate(all="ignore"):
            mean = scores.mean(axis=1)
            out[f"mean_{kind}_score"] = mean
            out[f"std_{kind}_score"] = scores.std(axis=1)
        if kind == "test":
            out["rank_test_score"] = _rank(mean)
    out["trial_name"] = [r.trial.name for r in reports]
    out["status"] = [r.status.value for r in reports]
    return out
