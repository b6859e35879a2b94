"""The ``neps`` plugin: an optimizer. Imports NePS only when an optimizer is created."""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_optimizers(register: Register) -> None:
    """``create_optimizer("neps", space=..., seed=...)``: `NePSOptimizer.create`."""
    from byop.neps._optimizer import NePSOptimizer

    register("neps", NePSOptimizer.create)
