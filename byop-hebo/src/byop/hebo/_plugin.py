"""The ``hebo`` plugin: an optimizer. Imports HEBO only when an optimizer is created."""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_optimizers(register: Register) -> None:
    """``create_optimizer("hebo", space=..., seed=...)``: `HEBOOptimizer.create`."""
    from byop.hebo._optimizer import HEBOOptimizer

    register("hebo", HEBOOptimizer.create)
