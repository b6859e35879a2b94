"""byop-core's ``byop.optimization`` plugin: random search and the multi-fidelity optimizers.

Registered through byop-core's own ``byop`` entry point, exactly as a third party's plugin is.
"""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_optimizers(register: Register) -> None:
    """``random_search``, and the multi-fidelity ``successive_halving``, ``hyperband``, ``asha``."""
    from byop.optimization._hyperband import ASHA, Hyperband, SuccessiveHalving
    from byop.optimization._random_search import RandomSearch

    register("random_search", RandomSearch)
    register("successive_halving", SuccessiveHalving)
    register("hyperband", Hyperband)
    register("asha", ASHA)


@hookimpl
def register_pruners(register: Register) -> None:
    """``median`` (the median stopping rule), ``asha`` (successive halving's) and ``none``."""
    from byop.optimization._pruners import MedianPruner, NoPruner, SuccessiveHalvingPruner

    register("median", MedianPruner)
    register("asha", SuccessiveHalvingPruner)
    register("none", NoPruner)
