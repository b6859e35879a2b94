"""Converting between byop's `Space` and ConfigSpace's ``ConfigurationSpace``."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from byop.pipeline import (
    Categorical,
    Condition,
    Constant,
    Float,
    Forbidden,
    Hyperparameter,
    Integer,
    InvalidSpaceError,
    Space,
)
from byop.plugins import import_optional

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

INSTALL = "byop[configspace]"


def configspace_module() -> ModuleType:
    """``ConfigSpace``, imported on first use, or an error naming what to install."""
    return import_optional("ConfigSpace", install=INSTALL, feature="byop.configspace")


def is_configuration_space(space: Any) -> bool:
    """Whether ``space`` is a ``ConfigurationSpace``, without importing ConfigSpace."""
    if not type(space).__module__.startswith("ConfigSpace"):
        return False  # ConfigSpace is not even loaded, or this is something else
    from ConfigSpace import ConfigurationSpace

    return isinstance(space, ConfigurationSpace)


def plain_value(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; anything else as it is."""
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "shape", None) == ():
        return item()
    return value


def to_configspace(
    space: Space | Mapping[str, Any] | ConfigurationSpace,
    *,
    seed: int | None = None,
    name: str | None = None,
) -> ConfigurationSpace:
    """Convert byop's space to a ``ConfigurationSpace``.

    Ranges become uniform float or integer hyperparameters (log scale kept), choices become
    categoricals (weights kept), constants stay constants, and defaults are passed on where the
    space gives them (otherwise ConfigSpace picks its own: the middle of a range, the most
    weighted choice). Conditions become ``EqualsCondition`` (one value) or ``InCondition``
    (several), joined with ``AndConjunction`` when a hyperparameter has more than one.
    Forbidden combinations become ``ForbiddenEqualsClause`` and ``ForbiddenAndConjunction``.

    This is the space parser registered as ``"configspace"``:
    ``searchable(...).space(parser="configspace")``.

    Args:
        space: byop's `Space`, a dictionary written the byop way, or a ``ConfigurationSpace``
            (returned as it is).
        seed: Seeds the ``ConfigurationSpace``'s own sampling.
        name: The ``ConfigurationSpace``'s name.

    Raises:
        InvalidSpaceError: ConfigSpace rejects part of the space; the message says which.

    Example:
        ```python
        from byop.configspace import to_configspace
        from byop.pipeline import Float, searchable

        s = searchable("svm", space={"C": Float(0.1, 10.0, log=True), "kernel": ["rbf", "linear"]})
        cs = to_configspace(s.space(), seed=1)
        assert cs["C"].log and list(cs["kernel"].choices) == ["rbf", "linear"]
        ```
    """
    if is_configuration_space(space):
        return space  # type: ignore[return-value]
    cs_mod = configspace_module()
    byop_space = Space.from_dict(space)
    cs: ConfigurationSpace = cs_mod.ConfigurationSpace(name=name, seed=seed)
    try:
        cs.add([_to_hyperparameter(cs_mod, hp) for hp in byop_space.hyperparameters])
        conditions = _to_conditions(cs_mod, cs, byop_space.conditions)
        if conditions:
            cs.add(conditions)
        forbidden = [_to_forbidden(cs_mod, cs, f) for f in byop_space.forbidden]
        if forbidden:
            cs.add(forbidden)
    except (ValueError, TypeError, KeyError) as e:
        raise InvalidSpaceError(f"ConfigSpace cannot represent this space: {e}") from e
    return cs


def _to_hyperparameter(cs_mod: ModuleType, hp: Hyperparameter) -> Any:
    if isinstance(hp, Float):
        return cs_mod.UniformFloatHyperparameter(
            hp.name, hp.lower, hp.upper, default_value=hp.default, log=hp.log
        )
    if isinstance(hp, Integer):
        return cs_mod.UniformIntegerHyperparameter(
            hp.name, hp.lower, hp.upper, default_value=hp.default, log=hp.log
        )
    if isinstance(hp, Categorical):
        kwargs: dict[str, Any] = {}
        if hp.default is not None:
            kwargs["default_value"] = hp.default
        if hp.weights is not None:
            kwargs["weights"] = list(hp.weights)
        return cs_mod.CategoricalHyperparameter(hp.name, list(hp.choices), **kwargs)
    return cs_mod.Constant(hp.name, hp.value)


def _to_conditions(
    cs_mod: ModuleType, cs: ConfigurationSpace, conditions: Iterable[Condition]
) -> list[Any]:
    by_child: dict[str, list[Any]] = defaultdict(list)
    for c in conditions:
        child, parent = cs[c.child], cs[c.parent]
        if len(c.values) == 1:
            by_child[c.child].append(cs_mod.EqualsCondition(child, parent, c.values[0]))
        else:
            by_child[c.child].append(cs_mod.InCondition(child, parent, list(c.values)))
    return [
        conds[0] if len(conds) == 1 else cs_mod.AndConjunction(*conds)
        for conds in by_child.values()
    ]


def _to_forbidden(cs_mod: ModuleType, cs: ConfigurationSpace, forbidden: Forbidden) -> Any:
    clauses = [cs_mod.ForbiddenEqualsClause(cs[name], value) for name, value in forbidden.clauses]
    return clauses[0] if len(clauses) == 1 else cs_mod.ForbiddenAndConjunction(*clauses)


def from_configspace(cs: ConfigurationSpace) -> Space:
    """A ``ConfigurationSpace`` as byop's `Space`.

    Uniform float and integer hyperparameters, categoricals (with weights), ordinals (read as
    plain choices: their order is not kept) and constants are converted, with their defaults.
    Equality and membership conditions, joined by ``and`` if at all, and forbidden equality and
    membership clauses, joined by ``and`` if at all, are converted too.

    Raises:
        InvalidSpaceError: The space has something byop's `Space` cannot express (normal or
            beta priors, ``or`` conditions, comparisons, forbidden relations); the message
            names it.

    Example:
        ```python
        from ConfigSpace import ConfigurationSpace
        from byop.configspace import from_configspace

        space = from_configspace(ConfigurationSpace({"x": (0.0, 1.0), "k": ["a", "b"]}))
        assert set(space.names) == {"x", "k"}
        ```
    """
    cs_mod = configspace_module()
    hyperparameters = [_from_hyperparameter(cs_mod, hp) for hp in cs.values()]
    conditions = [c for cond in cs.conditions for c in _from_condition(cs_mod, cond)]
    forbidden = [f for fc in cs.forbidden_clauses for f in _from_forbidden(cs_mod, fc)]
    return Space(hyperparameters, conditions=conditions, forbidden=forbidden)


def _from_hyperparameter(cs_mod: ModuleType, hp: Any) -> Hyperparameter:
    kind = type(hp).__name__
    if isinstance(hp, cs_mod.UniformFloatHyperparameter):
        return Float(
            float(hp.lower),
            float(hp.upper),
            log=bool(hp.log),
            default=float(hp.default_value),
            name=hp.name,
        )
    if isinstance(hp, cs_mod.UniformIntegerHyperparameter):
        return Integer(
            int(hp.lower),
            int(hp.upper),
            log=bool(hp.log),
            default=int(hp.default_value),
            name=hp.name,
        )
    if isinstance(hp, cs_mod.CategoricalHyperparameter):
        weights = None if hp.weights is None else tuple(float(w) for w in hp.weights)
        return Categorical(
            [plain_value(c) for c in hp.choices],
            weights=weights,
            default=plain_value(hp.default_value),
            name=hp.name,
        )
    if isinstance(hp, cs_mod.OrdinalHyperparameter):
        return Categorical(
            [plain_value(c) for c in hp.sequence],
            default=plain_value(hp.default_value),
            name=hp.name,
        )
    if isinstance(hp, cs_mod.Constant):
        return Constant(plain_value(hp.value), name=hp.name)
    raise InvalidSpaceError(
        f"Hyperparameter {hp.name!r} is a {kind}, which byop's Space cannot express (it has "
        "uniform ranges, choices and constants). Sample the ConfigurationSpace directly with "
        "ConfigSpaceSampler, or use a uniform range."
    )


def _from_condition(cs_mod: ModuleType, cond: Any) -> list[Condition]:
    if isinstance(cond, cs_mod.AndConjunction):
        return [c for component in cond.components for c in _from_condition(cs_mod, component)]
    if isinstance(cond, cs_mod.EqualsCondition):
        return [Condition(cond.child.name, cond.parent.name, (plain_value(cond.value),))]
    if isinstance(cond, cs_mod.InCondition):
        values = tuple(plain_value(v) for v in cond.values)
        return [Condition(cond.child.name, cond.parent.name, values)]
    raise InvalidSpaceError(
        f"Condition {cond} is a {type(cond).__name__}; byop's Space has only equality and "
        "membership conditions, joined by 'and'."
    )


def _from_forbidden(cs_mod: ModuleType, clause: Any) -> list[Forbidden]:
    options = _forbidden_options(cs_mod, clause)
    return [Forbidden(combination) for combination in options]


def _forbidden_options(cs_mod: ModuleType, clause: Any) -> list[list[tuple[str, Any]]]:
    """Every combination of ``name == value`` that ``clause`` forbids."""
    if isinstance(clause, cs_mod.ForbiddenEqualsClause):
        return [[(clause.hyperparameter.name, plain_value(clause.value))]]
    if isinstance(clause, cs_mod.ForbiddenInClause):
        name = clause.hyperparameter.name
        return [[(name, plain_value(v))] for v in clause.values]
    if isinstance(clause, cs_mod.ForbiddenAndConjunction):
        parts = [_forbidden_options(cs_mod, c) for c in clause.components]
        return [
            [pair for option in combination for pair in option]
            for combination in itertools.product(*parts)
        ]
    raise InvalidSpaceError(
        f"Forbidden clause {clause} is a {type(clause).__name__}; byop's Space has only "
        "forbidden combinations of equal values."
    )
