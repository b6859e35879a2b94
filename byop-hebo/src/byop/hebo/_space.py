"""byop's `Space` as HEBO's ``DesignSpace``."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from attrs import frozen

from byop.pipeline import Categorical, Constant, Float, Integer, InvalidSpaceError, Space
from byop.plugins import import_optional

if TYPE_CHECKING:
    from hebo.design_space.design_space import DesignSpace

INSTALL = "byop[hebo]"


def hebo_module(name: str = "hebo") -> ModuleType:
    """A module of HEBO, imported on first use, or an error naming what to install."""
    return import_optional(name, install=INSTALL, feature="byop.hebo")


@frozen
class HEBOSpace:
    """HEBO's ``DesignSpace`` made from byop's space, and how to read its rows back.

    Attributes:
        design_space: HEBO's space; ``None`` when there is nothing to search.
        space: byop's space it was made from.
        fixed: The hyperparameters with one value (constants, choices of one), which HEBO does
            not see; they are put back in every configuration.
        encoded: For each choice whose values are not all strings, the choices, which HEBO
            sees as the labels ``"0"``, ``"1"``...
    """

    design_space: DesignSpace | None
    space: Space
    fixed: Mapping[str, Any]
    encoded: Mapping[str, tuple[Any, ...]]

    def config(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The byop configuration (plain Python values, in the space's order) of a HEBO row."""
        out: dict[str, Any] = {}
        for hp in self.space.hyperparameters:
            if hp.name in self.fixed:
                out[hp.name] = self.fixed[hp.name]
                continue
            value = row[hp.name]
            if hasattr(value, "item") and not isinstance(value, str):
                value = value.item()
            if isinstance(hp, Float):
                value = min(hp.upper, max(hp.lower, float(value)))
            elif isinstance(hp, Integer):
                value = min(hp.upper, max(hp.lower, round(float(value))))
            elif hp.name in self.encoded:
                value = self.encoded[hp.name][int(value)]
            elif isinstance(hp, Categorical) and _is_bool(hp):
                value = bool(value)
            else:
                value = str(value)
            out[hp.name] = value
        return out

    def row(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """HEBO's row of byop's configuration (for ``observe`` when restoring).

        Raises:
            InvalidSpaceError: The configuration is not in the space.
        """
        self.space.validate(config)
        out: dict[str, Any] = {}
        for hp in self.space.hyperparameters:
            if hp.name in self.fixed:
                continue
            value = config[hp.name]
            if hp.name in self.encoded:
                choices = self.encoded[hp.name]
                value = str(
                    next(i for i, c in enumerate(choices) if c == value and type(c) is type(value))
                )
            out[hp.name] = value
        return out


def to_hebo(space: Space | Mapping[str, Any]) -> HEBOSpace:
    """Convert byop's space to HEBO's ``DesignSpace``.

    Ranges become ``num`` and ``int`` parameters, on a log scale ``pow`` and ``pow_int``;
    choices of ``True`` and ``False`` become ``bool``, other choices ``cat`` (string choices as
    they are, others by the label of their index). Constants, and choices of one value, are not
    searched: they are put back in every configuration. Weights and defaults are dropped
    (HEBO takes no priors).

    Raises:
        InvalidSpaceError: The space has conditions (HEBO's spaces have none).

    Example:
        ```python
        from byop.hebo import to_hebo
        from byop.pipeline import Float, searchable

        space = searchable("s", space={"lr": Float(1e-4, 1e-1, log=True), "depth": (1, 8)})
        design = to_hebo(space.space()).design_space
        assert design is not None and design.para_names == ["lr", "depth"]
        ```
    """
    byop_space = Space.from_dict(space)
    if byop_space.conditions:
        conditional = sorted({c.child for c in byop_space.conditions})
        raise InvalidSpaceError(
            f"HEBO's design spaces have no conditions, but {conditional} are conditional. Use "
            "an optimizer that takes conditions (smac, optuna, random_search), or drop the "
            "conditions from the space: every hyperparameter is then always active."
        )
    params: list[dict[str, Any]] = []
    fixed: dict[str, Any] = {}
    encoded: dict[str, tuple[Any, ...]] = {}
    for hp in byop_space.hyperparameters:
        name = hp.name
        if isinstance(hp, Float):
            kind = "pow" if hp.log else "num"
            params.append({"name": name, "type": kind, "lb": hp.lower, "ub": hp.upper})
        elif isinstance(hp, Integer):
            kind = "pow_int" if hp.log else "int"
            params.append({"name": name, "type": kind, "lb": hp.lower, "ub": hp.upper})
        elif isinstance(hp, Categorical):
            if len(hp.choices) == 1:
                fixed[name] = hp.choices[0]
            elif _is_bool(hp):
                params.append({"name": name, "type": "bool"})
            elif all(type(c) is str for c in hp.choices):
                params.append({"name": name, "type": "cat", "categories": list(hp.choices)})
            else:
                encoded[name] = hp.choices
                labels = [str(i) for i in range(len(hp.choices))]
                params.append({"name": name, "type": "cat", "categories": labels})
        elif isinstance(hp, Constant):
            fixed[name] = hp.value
    design = (
        hebo_module("hebo.design_space.design_space").DesignSpace().parse(params)
        if params
        else None
    )
    return HEBOSpace(design, byop_space, fixed, encoded)


def _is_bool(hp: Categorical) -> bool:
    return len(hp.choices) == 2 and {type(c) for c in hp.choices} == {bool}
