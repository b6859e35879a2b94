"""Search spaces and pipelines: what to build, and what to search.

A pipeline is a tree of frozen nodes: `Component` (builds ``item(**config)``), `Fixed` (an
object used as it is), `Searchable` (hyperparameters only), `Sequential` (``a >> b``; its
public name is `Pipeline`), `Choice` (``a | b``), `Split` and `Join` (``a & b``).
``node.space()`` gives byop's own `Space` (keys are ``:``-joined paths of node names, with
conditions under each `Choice`), or another representation through a registered space parser
(``.space(parser="configspace")``). ``node.configure(config, params=...)`` sets every value;
``configured.build("sklearn")`` builds it through a registered builder.
"""

from __future__ import annotations

from byop.pipeline._errors import (
    BuildError,
    ConfigurationError,
    InvalidPipelineError,
    InvalidSpaceError,
    MissingParamError,
    OutOfRangeError,
    UnknownKeyError,
)
from byop.pipeline._hyperparameters import (
    Categorical,
    Constant,
    Float,
    Hyperparameter,
    Integer,
)
from byop.pipeline._node import CHOICE, Node
from byop.pipeline._nodes import (
    Choice,
    Component,
    Fixed,
    Join,
    Pipeline,
    Searchable,
    Sequential,
    Split,
    as_node,
)
from byop.pipeline._paths import check_buildable
from byop.pipeline._request import Request, request
from byop.pipeline._sampler import (
    FunctionSampler,
    NumpySampler,
    SampleFunction,
    Sampler,
    as_sampler,
    sampler_for,
)
from byop.pipeline._searchable import searchable
from byop.pipeline._space import (
    SEPARATOR,
    Condition,
    Forbidden,
    Space,
    config_key,
)

__all__ = [
    "CHOICE",
    "SEPARATOR",
    "BuildError",
    "Categorical",
    "Choice",
    "Component",
    "Condition",
    "ConfigurationError",
    "Constant",
    "Fixed",
    "Float",
    "Forbidden",
    "FunctionSampler",
    "Hyperparameter",
    "Integer",
    "InvalidPipelineError",
    "InvalidSpaceError",
    "Join",
    "MissingParamError",
    "Node",
    "NumpySampler",
    "OutOfRangeError",
    "Pipeline",
    "Request",
    "SampleFunction",
    "Sampler",
    "Searchable",
    "Sequential",
    "Space",
    "Split",
    "UnknownKeyError",
    "as_node",
    "as_sampler",
    "check_buildable",
    "config_key",
    "request",
    "sampler_for",
    "searchable",
]
