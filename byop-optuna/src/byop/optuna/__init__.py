"""byop's Optuna integration.

- `OptunaOptimizer`: an Optuna study behind byop's ask-and-tell interface, registered as the
  optimizer ``"optuna"`` (``create_optimizer("optuna", space=..., seed=...)``);
- `to_optuna`: byop's space as Optuna distributions, registered as the space parser
  ``"optuna"`` (``searchable(...).space(parser="optuna")``).

Optuna itself is imported only when one of these is used.
"""

from __future__ import annotations

from byop.optuna._optimizer import OptunaOptimizer, OptunaTrialInfo
from byop.optuna._parser import to_optuna

__all__ = ["OptunaOptimizer", "OptunaTrialInfo", "to_optuna"]
