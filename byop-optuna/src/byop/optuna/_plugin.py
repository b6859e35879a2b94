"""The ``optuna`` plugin: an optimizer and a space parser. Imports Optuna only when used."""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_optimizers(register: Register) -> None:
    """``create_optimizer("optuna", space=..., seed=...)``: `OptunaOptimizer.create`."""
    from byop.optuna._optimizer import OptunaOptimizer

    register("optuna", OptunaOptimizer.create)


@hookimpl
def register_space_parsers(register: Register) -> None:
    """``space(parser="optuna")``: byop's space as a dictionary of Optuna distributions."""
    from byop.optuna._parser import to_optuna

    register("optuna", to_optuna)


@hookimpl
def register_pruners(register: Register) -> None:
    """Optuna's pruners, for any optimizer: ``"optuna.median"``, ``"optuna.hyperband"``..."""
    from byop.optuna._pruners import PRUNERS, factory

    for name, class_name in PRUNERS.items():
        register(name, factory(class_name))
