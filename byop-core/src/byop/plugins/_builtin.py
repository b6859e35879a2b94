"""byop's own features, registered through the same hooks as any plugin."""

from __future__ import annotations

from byop.plugins._hookspecs import Register, hookimpl

PLUGIN_NAME = "byop-core"


@hookimpl
def register_optimizers(register: Register) -> None:
    """Random search."""
    from byop.optimization import RandomSearch

    register("random_search", RandomSearch)


@hookimpl
def register_samplers(register: Register) -> None:
    """Byop's numpy sampler for its own space."""
    from byop.pipeline import NumpySampler

    register("numpy", NumpySampler)


@hookimpl
def register_space_parsers(register: Register) -> None:
    """Byop's own space, from its dictionary form."""
    from byop.pipeline import Space

    register("byop", Space.from_dict)


@hookimpl
def register_backends(register: Register) -> None:
    """Processes (byop's own pool), threads, and sequential (this thread)."""
    from byop.scheduling import ProcessBackend, SequentialBackend, thread_backend

    register("processes", ProcessBackend)
    register("threads", thread_backend)
    register("sequential", SequentialBackend)
