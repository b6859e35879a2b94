"""The ``smac`` plugin: an optimizer. Imports SMAC only when an optimizer is created."""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_optimizers(register: Register) -> None:
    """``create_optimizer("smac", space=..., seed=...)``: `SMACOptimizer.create`."""
    from byop.smac._optimizer import SMACOptimizer

    register("smac", SMACOptimizer.create)
