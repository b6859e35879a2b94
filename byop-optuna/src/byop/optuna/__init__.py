"""byop's Optuna integration.

- `OptunaOptimizer`: an Optuna study behind byop's ask-and-tell interface, registered as the
  optimizer ``"optuna"`` (``create_optimizer("optuna", space=..., seed=...)``);
- `to_optuna`: byop's space as Optuna distributions, registered as the space parser
  ``"optuna"`` (``searchable(...).space(parser="optuna")``);
- `OptunaPruner`: any of Optuna's pruners for any optimizer, registered as the pruners
  ``"optuna.median"``, ``"optuna.hyperband"``... (``optimize(..., pruner="optuna.median")``).

Optuna itself is imported only when one of these is used.
"""

from __future__ import annotations

from byop.optuna._optimizer import OptunaOptimizer, OptunaTrialInfo
from byop.optuna._parser import to_optuna
from byop.optuna._pruners import OptunaPruner

__all__ = ["OptunaOptimizer", "OptunaPruner", "OptunaTrialInfo", "to_optuna"]
