"""byop's SMAC integration.

`SMACOptimizer` puts a SMAC facade (Bayesian optimization, multi-fidelity, random...) behind
byop's ask-and-tell interface. It is registered as the optimizer ``"smac"``:
``create_optimizer("smac", space=..., seed=...)`` calls `SMACOptimizer.create`.

SMAC (slow to import) is imported only when an optimizer is created.
"""

from __future__ import annotations

from byop.smac._optimizer import SMACOptimizer

__all__ = ["SMACOptimizer"]
