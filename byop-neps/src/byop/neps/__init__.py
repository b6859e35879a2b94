"""byop's NePS integration.

`NePSOptimizer` puts a NePS algorithm (Bayesian optimization, πBO, PriorBand, Hyperband, ASHA,
successive halving, random search...) behind byop's ask-and-tell interface, over NePS's own
``AskAndTell``. It is registered as the optimizer ``"neps"``:
``create_optimizer("neps", space=..., seed=..., algorithm=...)`` calls `NePSOptimizer.create`.
`to_neps` converts byop's space (and a declared fidelity) to a NePS ``SearchSpace``.

NePS (and torch, which it runs on) is imported only when one of these is used.
"""

from __future__ import annotations

from byop.neps._optimizer import NePSOptimizer, NePSTrialInfo
from byop.neps._space import NePSSpace, to_neps

__all__ = ["NePSOptimizer", "NePSSpace", "NePSTrialInfo", "to_neps"]
