"""byop's scikit-learn integration.

- the pipeline builder ``"sklearn"`` (registered through ``register_builders``):
  ``pipeline.configure(config).build("sklearn")`` makes a scikit-learn estimator;
- `CVObjective`: a pipeline and data as an objective, cross-validated, in one line;
- `ByopSearchCV`: a scikit-learn search estimator (``fit``, ``best_estimator_``,
  ``cv_results_``...) on byop's optimizers, back ends and limits.

Install with ``pip install byop[sklearn]``. `CVObjective` and the builder import scikit-learn
only when used; `ByopSearchCV` (a scikit-learn estimator) when it is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from byop.sklearn._builder import build
from byop.sklearn._objective import (
    FIT_TIMES,
    FOLD_SCORES,
    FOLD_TRAIN_SCORES,
    SCORE_TIMES,
    CVObjective,
    scorer_name,
)

if TYPE_CHECKING:
    from byop.sklearn._search import ByopSearchCV

__all__ = [
    "FIT_TIMES",
    "FOLD_SCORES",
    "FOLD_TRAIN_SCORES",
    "SCORE_TIMES",
    "ByopSearchCV",
    "CVObjective",
    "build",
    "scorer_name",
]


def __getattr__(name: str) -> Any:
    if name == "ByopSearchCV":
        from byop.sklearn._builder import sklearn_module

        sklearn_module()  # an error naming byop[sklearn] when scikit-learn is missing
        from byop.sklearn._search import ByopSearchCV

        return ByopSearchCV
    raise AttributeError(f"module 'byop.sklearn' has no attribute {name!r}")
