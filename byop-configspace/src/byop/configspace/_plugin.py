"""The ``configspace`` plugin: a space parser and a sampler. Imports ConfigSpace only when used."""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_space_parsers(register: Register) -> None:
    """``space(parser="configspace")``: byop's space as a ``ConfigurationSpace``."""
    from byop.configspace._parser import to_configspace

    register("configspace", to_configspace)


@hookimpl
def register_samplers(register: Register) -> None:
    """`ConfigSpaceSampler`, for ``ConfigurationSpace`` (and byop's own space)."""
    from byop.configspace._sampler import ConfigSpaceSampler

    register("configspace", ConfigSpaceSampler)
