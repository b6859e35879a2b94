"""`searchable`: a named piece of a pipeline with a search space."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from byop.pipeline._errors import InvalidSpaceError
from byop.pipeline._space import Space


def _space_dict(value: Mapping[str, Any] | Space | None) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Space):
        return {hp.name: hp for hp in value.hyperparameters}
    if not isinstance(value, Mapping):
        raise InvalidSpaceError(
            f"space= takes a dict of name to range, choice or constant, got {type(value).__name__}."
        )
    return dict(value)


@frozen
class Searchable:
    """A named node with hyperparameters to search over.

    Attributes:
        name: The node's name; it prefixes its hyperparameters when nodes are joined.
        search_space: The hyperparameters, written as a dictionary (see `Space.from_dict`).
        config: Fixed values passed along with every configuration.
    """

    name: str
    search_space: dict[str, Any] = field(factory=dict, converter=_space_dict)
    config: dict[str, Any] = field(factory=dict, converter=dict)
    _parsed: Space = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidSpaceError(f"A searchable needs a non-empty name, got {self.name!r}.")
        # Validate eagerly: a bad space is reported where it is written.
        object.__setattr__(self, "_parsed", Space.from_dict(self.search_space))

    def space(self, parser: str | None = None, **kwargs: Any) -> Any:
        """The node's search space: byop's `Space`, or another form through a parser.

        Args:
            parser: The name of a registered space parser (e.g. ``"configspace"``), or
                ``None`` for byop's own `Space`.
            **kwargs: Passed to the parser.

        Example:
            ```python
            from byop.pipeline import searchable

            s = searchable("parameters", space={"x": (-10.0, 10.0)})
            assert s.space().names == ("x",)
            ```
        """
        if parser is None:
            return self._parsed
        from byop.plugins import get

        hint = None
        if parser in {"configspace", "optuna"}:
            hint = f"Install it with: pip install byop[{parser}]."
        registration = get("space_parsers", parser, hint=hint)
        return registration.obj(self._parsed, **kwargs)


def searchable(
    name: str,
    *,
    space: Mapping[str, Any] | Space | None = None,
    config: Mapping[str, Any] | None = None,
) -> Searchable:
    """A named set of hyperparameters to search over.

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
        assert space["x"].lower == -10.0
        ```
    """
    return Searchable(name, space, config or {})
