"""Walking a pipeline: its space (keys are paths), configuring it, checking it can be built.

A hyperparameter's key is the ``:``-joined path of node names from the node whose ``space()``
is called down to it; that node's own hyperparameters keep their names. A `Choice` of several
children adds ``"<its path>:__choice__"``, and each hyperparameter under a child that no
condition governs yet becomes conditional on that child being chosen: nested choices are so
conditional transitively.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from byop.pipeline._errors import (
    BuildError,
    InvalidSpaceError,
    MissingParamError,
    OutOfRangeError,
    UnknownKeyError,
)
from byop.pipeline._hyperparameters import Categorical, Hyperparameter
from byop.pipeline._node import CHOICE, Node, replace
from byop.pipeline._nodes import Choice, Searchable
from byop.pipeline._request import Request
from byop.pipeline._space import (
    SEPARATOR,
    Condition,
    Space,
    default_of,
)


def space_of(node: Node) -> Space:
    """The space of ``node`` and every node below it, keys relative to ``node``."""
    parts = [node.search_space]
    parts.extend(space_of(child).prefixed(child.name) for child in node.nodes)
    joined = Space.join(*parts)
    if not isinstance(node, Choice) or len(node.nodes) < 2:
        return joined
    names: list[Any] = [child.name for child in node.nodes]
    choice = Categorical(names, weights=node.weights, name=CHOICE)
    conditions = list(joined.conditions)
    for child, part in zip(node.nodes, parts[1:], strict=True):
        governed = {c.child for c in part.conditions}
        when: list[Any] = [child.name]
        ungoverned = [hp.name for hp in part if hp.name not in governed]
        conditions.extend(Condition(name, CHOICE, when) for name in ungoverned)
    return Space(
        [choice, *joined.hyperparameters], conditions=conditions, forbidden=joined.forbidden
    )


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "shape", None) == ():
        return item()
    return value


def _describe(hp: Hyperparameter) -> str:
    kind = type(hp).__name__
    if isinstance(hp, Categorical):
        return f"{kind} of {list(hp.choices)}"
    lower, upper = getattr(hp, "lower", None), getattr(hp, "upper", None)
    if lower is not None:
        return f"{kind} in [{lower}, {upper}]"
    return f"Constant {getattr(hp, 'value', None)!r}"


def check_config(space: Space, config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` checked against ``space``, numpy scalars made plain."""
    if not isinstance(config, Mapping):
        raise TypeError(f"A config is a dict of key to value, got {type(config).__name__}.")
    out: dict[str, Any] = {}
    for key, raw in config.items():
        if key not in space:
            close = difflib.get_close_matches(str(key), space.names, n=3)
            hint = f" Did you mean {close}?" if close else ""
            some = list(space.names[:8]) + (["..."] if len(space) > 8 else [])
            raise UnknownKeyError(
                f"Config key {key!r} matches no hyperparameter of the pipeline.{hint} Keys are "
                f"paths of node names joined with {SEPARATOR!r}; the pipeline has {some}."
            )
        value = _plain(raw)
        hp = space[key]
        if not hp.contains(value):
            raise OutOfRangeError(
                f"Config value {key}={value!r} is not a value of its hyperparameter "
                f"({_describe(hp)})."
            )
        out[key] = value
    active = space.active(out)
    if space.is_forbidden(active):
        raise OutOfRangeError(f"Config {active!r} is a forbidden combination of the space.")
    return out


def configure(node: Node, config: Mapping[str, Any], params: Mapping[str, Any]) -> Node:
    """``node`` with only the chosen branches and every value set (see `Node.configure`)."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params= is a dict of name to value, got {type(params).__name__}.")
    values = check_config(space_of(node), config)
    return _configure(node, "", values, params)


def _configure(node: Node, path: str, config: dict[str, Any], params: Mapping[str, Any]) -> Node:
    prefix = f"{path}{SEPARATOR}" if path else ""
    if isinstance(node, Choice):
        if len(node.nodes) == 1:
            chosen = node.nodes[0]
        else:
            key = f"{prefix}{CHOICE}"
            name = config.get(key, node.nodes[0].name)
            chosen = next(c for c in node.nodes if c.name == name)
        child = _configure(chosen, f"{prefix}{chosen.name}", config, params)
        return replace(node, nodes=(child,), weights=None)
    own = node.search_space
    values = {hp.name: config.get(f"{prefix}{hp.name}", default_of(hp)) for hp in own}
    values = own.active(values)
    merged = {**node.config, **values}
    where = f"{node.KIND} {node.name!r}" + (f" (at {path!r})" if path else "")
    for key, value in merged.items():
        if isinstance(value, Request):
            if value.key in params:
                merged[key] = params[value.key]
            elif value.has_default:
                merged[key] = value.default
            else:
                raise MissingParamError(
                    f"{where} requests {value.key!r} for its config key {key!r}, and "
                    f"params= has no {value.key!r} (it has {sorted(params)}): pass "
                    f"configure(..., params={{{value.key!r}: ...}}) or give the request a "
                    "default."
                )
    if node.config_transform is not None:
        transformed = node.config_transform(dict(merged))
        if not isinstance(transformed, Mapping):
            raise TypeError(
                f"The config_transform of {where} returned {type(transformed).__name__}, not a "
                "dict of config values."
            )
        merged = dict(transformed)
    children = tuple(_configure(c, f"{prefix}{c.name}", config, params) for c in node.nodes)
    return replace(
        node, config=merged, search_space=Space([]), nodes=children, config_transform=None
    )


def check_buildable(node: Node) -> None:
    """Raise `BuildError` unless a builder can build ``node`` as it is."""
    for path, here in node.walk():
        where = f"{here.KIND} {here.name!r}" + (f" (at {path!r})" if path else "")
        if isinstance(here, Choice) and len(here.nodes) > 1:
            raise BuildError(
                f"{where} still chooses between {[c.name for c in here.nodes]}: build a "
                "configured pipeline, pipeline.configure(config).build(...)."
            )
        if isinstance(here, Searchable):
            raise BuildError(
                f"{where} has no item to build: it only holds hyperparameters. Use "
                "Component(item, space=...) for something to build."
            )
        requests = sorted(k for k, v in here.config.items() if isinstance(v, Request))
        if requests:
            raise BuildError(
                f"{where} has config {requests} still requested: configure it first, "
                "pipeline.configure(config, params={...}).build(...)."
            )


__all__ = ["InvalidSpaceError", "check_buildable", "check_config", "configure", "space_of"]
