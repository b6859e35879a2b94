"""byop-core's ``byop.pipeline`` plugin: byop's own sampler and space parser.

Registered through byop-core's own ``byop`` entry point, exactly as a third party's plugin is.
"""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_samplers(register: Register) -> None:
    """``numpy``: byop's sampler for its own space."""
    from byop.pipeline._sampler import NumpySampler

    register("numpy", NumpySampler)


@hookimpl
def register_space_parsers(register: Register) -> None:
    """``byop``: byop's own space, from its dictionary form."""
    from byop.pipeline._space import Space

    register("byop", Space.from_dict)
