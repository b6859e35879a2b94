"""byop-core's ``byop.optimization`` plugin: the optimizer ``random_search``.

Registered through byop-core's own ``byop`` entry point, exactly as a third party's plugin is.
"""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_optimizers(register: Register) -> None:
    """``random_search``: `RandomSearch`."""
    from byop.optimization._random_search import RandomSearch

    register("random_search", RandomSearch)
