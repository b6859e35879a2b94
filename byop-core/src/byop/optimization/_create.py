"""Creating optimizers by name, from the plugin registry."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from byop.optimization._optimizer import as_seed
from byop.pipeline import InvalidSpaceError, Space


class UnknownOptimizerError(LookupError):
    """No optimizer is registered under that name; the message lists the available ones."""

    def __init__(self, name: str, available: list[str], hint: str | None = None) -> None:
        self.name = name
        self.available = available
        listed = ", ".join(repr(a) for a in available) if available else "none"
        message = f"No optimizer named {name!r} is registered. Available: {listed}."
        if hint:
            message += f" {hint}"
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


def available_optimizers() -> list[str]:
    """The names `create_optimizer` accepts, from every installed plugin.

    Example:
        ```python
        from byop.optimization import available_optimizers

        assert "random_search" in available_optimizers()
        ```
    """
    from byop.plugins import available  # plugins load pluggy: only when asked

    return available("optimizers")


def create_optimizer(name: str, *, space: Any, seed: int | None = None, **kwargs: Any) -> Any:
    """Create a registered optimizer by name.

    The optimizer is created as ``factory(space=space, seed=seed, **kwargs)``. A space given in
    the dictionary form of byop's space (``{"x": (0.0, 1.0)}``) is converted to a `Space` here,
    once, so optimizers receive a `Space`; any other object is passed as it is (a library's
    own space, or a dictionary for a sampler function).

    Args:
        name: The registered name, e.g. ``"random_search"``, ``"smac"``, ``"optuna"``.
        space: The search space: a `Space`, or its dictionary form.
        seed: The seed, for reproducible optimization.
        **kwargs: Passed on to the optimizer.

    Raises:
        TypeError: ``seed`` is not an int (ValueError: it is not in ``[0, 2**32)``).
        UnknownOptimizerError: No optimizer has that name; the message lists those that do and
            says what to install for a known one.

    Example:
        ```python
        from byop.optimization import create_optimizer
        from byop.pipeline import searchable

        space = searchable("s", space={"x": (0.0, 1.0)}).space()
        optimizer = create_optimizer("random_search", space=space, seed=1)
        assert 0.0 <= optimizer.ask().config["x"] <= 1.0
        ```
    """
    if not isinstance(name, str):
        raise TypeError(
            f"create_optimizer() takes the optimizer's registered name, got {type(name).__name__}"
            f" {name!r}. Available: {', '.join(available_optimizers())}."
        )
    from byop.plugins import UnknownFeatureError, get  # plugins load pluggy: only when asked

    try:
        registration = get("optimizers", name)
    except UnknownFeatureError as e:
        raise UnknownOptimizerError(name, e.available, hint=e.hint) from None
    seed = as_seed(seed)
    if isinstance(space, Mapping):
        # A dictionary that is not byop's space (one for a sampler function) stays as given.
        with contextlib.suppress(InvalidSpaceError):
            space = Space.from_dict(space)
    return registration.obj(space=space, seed=seed, **kwargs)
