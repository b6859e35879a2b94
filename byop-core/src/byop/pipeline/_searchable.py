"""`searchable`: a named set of hyperparameters, the smallest pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from byop.pipeline._nodes import Searchable
from byop.pipeline._space import Space


def searchable(
    name: str,
    *,
    space: Mapping[str, Any] | Space | None = None,
    config: Mapping[str, Any] | None = None,
) -> Searchable:
    """A named set of hyperparameters to search over (a `Searchable`).

    Args:
        name: The name of the node.
        space: The hyperparameters: ``(low, high)`` ranges, lists of choices, constants, or
            `Float` / `Integer` / `Categorical` / `Constant` for log scale, weights and defaults.
        config: Fixed values that go with every configuration.

    Raises:
        InvalidSpaceError: ``space`` holds something that is not a valid hyperparameter.

    Example:
        ```python
        from byop.pipeline import searchable

        s = searchable("parameters", space={"x": (-10.0, 10.0)})
        space = s.space()
        assert space["x"].lower == -10.0 and space.names == ("x",)
        ```
    """
    return Searchable(space, name=name, config=config)
