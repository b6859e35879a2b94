"""byop's conformance suites: the tests every optimizer, sampler and back-end plugin runs.

Subclass `OptimizerConformance` (or `SamplerConformance`, `BackendConformance`,
`PrunerConformance`) in a test module and pytest runs the whole suite against your plugin:

```python
from byop.testing import OptimizerConformance

class TestMyOptimizer(OptimizerConformance):
    optimizer_name = "my_optimizer"   # as registered by your plugin
```

Mix `ConditionalSpaceConformance` into an optimizer's suite class for conditional and nested
spaces (a pipeline's choices). `cost_of` is the deterministic objective the suites use, and
`mixed_space`, `conditional_space` and `nested_space` (of `nested_pipeline`) the spaces they
search.
"""

from __future__ import annotations

from byop.testing._backend_suite import BackendConformance
from byop.testing._conditional_suite import (
    ConditionalSpaceConformance,
    active_names,
    nested_pipeline,
    nested_space,
)
from byop.testing._optimizer_suite import OptimizerConformance
from byop.testing._pruner_suite import PrunerConformance
from byop.testing._sampler_suite import SamplerConformance
from byop.testing._spaces import conditional_space, cost_of, mixed_space

__all__ = [
    "BackendConformance",
    "ConditionalSpaceConformance",
    "OptimizerConformance",
    "PrunerConformance",
    "SamplerConformance",
    "active_names",
    "conditional_space",
    "cost_of",
    "mixed_space",
    "nested_pipeline",
    "nested_space",
]
