"""The hooks a byop plugin may implement.

Every hook takes one argument, ``register``, a callable that records one feature under a name.
A plugin implements only the hooks it needs. The core owns the registries and remembers which
plugin supplied each feature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pluggy

F = TypeVar("F", bound=Callable[..., Any])

PROJECT_NAME = "byop"
"""The pluggy project name; also the entry-point group that plugins are discovered from."""

_spec_marker = pluggy.HookspecMarker(PROJECT_NAME)
_impl_marker = pluggy.HookimplMarker(PROJECT_NAME)


def hookspec(function: F) -> F:
    """Mark a function as a byop hook specification (used by byop itself)."""
    return _spec_marker(function)


def hookimpl(function: F) -> F:
    """Mark a function in a plugin module as the implementation of a byop hook.

    Example:
        ```python
        from byop.plugins import hookimpl

        @hookimpl
        def register_optimizers(register):
            register("hillclimb", HillClimber)
        ```
    """
    return _impl_marker(function)


Register = Callable[[str, Any], None]
"""The ``register(name, thing)`` callable handed to every hook."""


@hookspec
def register_optimizers(register: Register) -> None:
    """Register optimizers: ``register(name, factory)``.

    byop creates them as ``factory(space=space, seed=seed, **kwargs)``, where ``space`` is
    always byop's ``Space`` (`create_optimizer` converts a dictionary once, before the
    factory sees it), ``seed`` an ``int`` or ``None``, and ``kwargs`` the caller's options:
    ``metrics=`` among them when declared (a tuple of ``byop.optimization.Metric``), and
    ``fidelities=`` when declared (a tuple of ``byop.optimization.Fidelity``). Every factory
    takes ``fidelities=``: a multi-fidelity optimizer varies them, any other gives each trial
    their maximum (``Trial(..., fidelities={name: high})``).
    """


@hookspec
def register_samplers(register: Register) -> None:
    """Register samplers: ``register(name, sampler_class)``.

    The class has ``supports(space)``, ``sample(space, seed)`` and ``stream(space, seed)``.
    """


@hookspec
def register_space_parsers(register: Register) -> None:
    """Register space parsers: ``register(name, parse)``.

    ``parse(space, **kwargs)`` turns byop's `Space` into another representation.
    """


@hookspec
def register_backends(register: Register) -> None:
    """Register execution back ends: ``register(name, factory)``.

    byop creates them as ``factory(n_workers=n_workers, **options)`` and the factory returns
    a back end (``byop.scheduling.Backend``). ``n_workers`` (an ``int`` >= 1, or ``None`` for
    the back end's own default) is how many calls the caller will run at once: a back end that
    starts workers starts that many; one that joins an existing cluster may ignore it (the
    caller never has more calls in flight). ``options`` are the back end's own keyword
    options, passed through unchanged (``optimize(..., backend_options={...})``).
    """


@hookspec
def register_builders(register: Register) -> None:
    """Register pipeline builders: ``register(name, build)``.

    ``configured.build(name, **options)`` calls ``build(node, **options)`` with the configured
    pipeline (``byop.pipeline.Node``: every value set, one child per ``Choice``) and returns
    what it builds (``"sklearn"``, from byop-sklearn, makes a scikit-learn estimator).
    """


@hookspec
def register_pruners(register: Register) -> None:
    """Register pruners (early-stopping rules): ``register(name, factory)``.

    byop creates them as ``factory(metric=metric, **options)``, where ``metric`` is the
    run's first ``byop.optimization.Metric`` (the one to judge progress by) and ``options``
    the caller's. The pruner has ``should_stop(trial, step, values) -> bool``, called with
    each intermediate report of a running trial (``trial.report_progress``), and
    ``tell(report)``, called with each trial's final report.
    """


HOOK_NAMES: tuple[str, ...] = (
    "register_optimizers",
    "register_samplers",
    "register_space_parsers",
    "register_backends",
    "register_builders",
    "register_pruners",
)
"""Every hook, in the order the registries are filled."""
