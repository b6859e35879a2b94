"""Search spaces and the pieces of a pipeline.

`searchable` names a set of hyperparameters; ``.space()`` gives byop's own `Space`, or another
representation through a registered space parser (``.space(parser="configspace")``).
"""

from __future__ import annotations

from byop.pipeline._errors import InvalidSpaceError
from byop.pipeline._hyperparameters import (
    Categorical,
    Constant,
    Float,
    Hyperparameter,
    Integer,
)
from byop.pipeline._sampler import (
    FunctionSampler,
    NumpySampler,
    SampleFunction,
    Sampler,
    as_sampler,
    sampler_for,
)
from byop.pipeline._searchable import Searchable, searchable
from byop.pipeline._space import (
    SEPARATOR,
    Condition,
    Forbidden,
    Space,
    config_key,
)

__all__ = [
    "SEPARATOR",
    "Categorical",
    "Condition",
    "Constant",
    "Float",
    "Forbidden",
    "FunctionSampler",
    "Hyperparameter",
    "Integer",
    "InvalidSpaceError",
    "NumpySampler",
    "SampleFunction",
    "Sampler",
    "Searchable",
    "Space",
    "as_sampler",
    "config_key",
    "sampler_for",
    "searchable",
]
