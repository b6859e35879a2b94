"""byop's HEBO integration.

`HEBOOptimizer` puts HEBO (Huawei's Heteroscedastic Evolutionary Bayesian Optimisation, and its
``GeneralBO`` for several objectives) behind byop's ask-and-tell interface. It is registered as
the optimizer ``"hebo"``: ``create_optimizer("hebo", space=..., seed=...)`` calls
`HEBOOptimizer.create`. `to_hebo` converts byop's space to HEBO's ``DesignSpace``.

HEBO (and torch, which it runs on) is imported only when one of these is used.
"""

from __future__ import annotations

from byop.hebo._optimizer import HEBOOptimizer, HEBOTrialInfo
from byop.hebo._space import HEBOSpace, to_hebo

__all__ = ["HEBOOptimizer", "HEBOSpace", "HEBOTrialInfo", "to_hebo"]
