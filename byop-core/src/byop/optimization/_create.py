"""Creating optimizers by name, from the plugin registry."""

from __future__ import annotations

from typing import Any

_KNOWN_EXTRAS = {
    "smac": "byop[smac]",
    "optuna": "byop[optuna]",
}


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
    from byop.plugins import available

    return available("optimizers")


def create_optimizer(name: str, *, space: Any, seed: int | None = None, **kwargs: Any) -> Any:
    """Create a registered optimizer by name.

    The optimizer is created as ``factory(space=space, seed=seed, **kwargs)``.

    Args:
        name: The registered name, e.g. ``"random_search"``, ``"smac"``, ``"optuna"``.
        space: The search space.
        seed: The seed, for reproducible optimization.
        **kwargs: Passed on to the optimizer.

    Raises:
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
    from byop.plugins import UnknownFeatureError, get

    try:
        registration = get("optimizers", name)
    except UnknownFeatureError as e:
        hint = None
        if name in _KNOWN_EXTRAS:
            hint = f"Install it with: pip install {_KNOWN_EXTRAS[name]}"
        raise UnknownOptimizerError(name, e.available, hint=hint) from None
    return registration.obj(space=space, seed=seed, **kwargs)
