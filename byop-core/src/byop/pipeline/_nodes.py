"""The kinds of pipeline node: frozen values that describe what to build and what to search.

`Component` builds ``item(**config)``, `Fixed` is an object used as it is, `Searchable` is a
space with no item; `Sequential` (alias `Pipeline`), `Choice`, `Split` and `Join` combine
nodes. ``a >> b`` makes a `Sequential`, ``a | b`` a `Choice` and ``a & b`` a `Join`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from attrs import frozen

from byop.pipeline._errors import InvalidPipelineError, InvalidSpaceError
from byop.pipeline._hyperparameters import Categorical
from byop.pipeline._node import ConfigTransform, Node, as_space, check_name, replace
from byop.pipeline._space import Space


def as_node(value: Any) -> Node:
    """A node from a node, a class or function (`Component`) or any other object (`Fixed`)."""
    if isinstance(value, Node):
        return value
    if isinstance(value, type) or inspect.isfunction(value):
        return Component(value)
    if isinstance(value, str | int | float | bool | Mapping) or value is None:
        raise TypeError(
            f"{value!r} is not a pipeline node: use Component(cls, ...), Fixed(obj), "
            "Searchable(space, name=...) or a combination of them."
        )
    return Fixed(value)


@frozen(init=False, repr=False)
class Component(Node):
    """A node that builds ``item(**config)``: a class or function, with its hyperparameters.

    Args:
        item: The class or function to build.
        space: Its hyperparameters (a dictionary written the byop way, or a `Space`).
        config: Fixed keyword arguments (values, or `request` placeholders).
        name: The node's name; by default the item's ``__name__``.
        config_transform: ``config_transform(config) -> config``, run last by `configure`.

    Example:
        ```python
        from byop.pipeline import Component

        def svc(C=1.0, kernel="rbf"): ...

        node = Component(svc, space={"C": (0.1, 10.0)}, config={"kernel": "linear"})
        assert node.name == "svc" and node.space().names == ("C",)
        ```
    """

    KIND: ClassVar[str] = "Component"

    def __init__(
        self,
        item: Any,
        space: Mapping[str, Any] | Space | None = None,
        config: Mapping[str, Any] | None = None,
        name: str | None = None,
        config_transform: ConfigTransform | None = None,
    ) -> None:
        if item is None or not callable(item):
            raise InvalidPipelineError(
                f"Component needs a class or function to build, got {item!r}; use Fixed(obj) "
                "for an object used as it is."
            )
        if name is None:
            name = getattr(item, "__name__", None) or type(item).__name__
        self.__attrs_init__(
            name=name,
            item=item,
            config=_config(self.KIND, name, config),
            search_space=as_space(space),
            config_transform=config_transform,
        )
        self._validate()


@frozen(init=False, repr=False)
class Fixed(Node):
    """An object used as it is (a builder may copy it: scikit-learn's builder clones it).

    Example:
        ```python
        from byop.pipeline import Fixed

        node = Fixed([1, 2], name="numbers")
        assert node.item == [1, 2] and node.space().names == ()
        ```
    """

    KIND: ClassVar[str] = "Fixed"

    def __init__(self, obj: Any, *, name: str | None = None) -> None:
        if isinstance(obj, Node):
            raise InvalidPipelineError(f"Fixed takes an object to use as it is, not a {obj.KIND}.")
        self.__attrs_init__(name=type(obj).__name__ if name is None else name, item=obj)
        self._validate()


@frozen(init=False, repr=False)
class Searchable(Node):
    """A named set of hyperparameters with nothing to build (see `searchable`).

    Args:
        space: The hyperparameters.
        name: The node's name.
        config: Fixed values that go with every configuration.
        config_transform: ``config_transform(config) -> config``, run last by `configure`.
    """

    KIND: ClassVar[str] = "Searchable"

    def __init__(
        self,
        space: Mapping[str, Any] | Space | None = None,
        *,
        name: str,
        config: Mapping[str, Any] | None = None,
        config_transform: ConfigTransform | None = None,
    ) -> None:
        if space is not None and not isinstance(space, Mapping | Space):
            raise InvalidSpaceError(
                f"space= takes a dict of name to range, choice or constant, got "
                f"{type(space).__name__}."
            )
        self.__attrs_init__(
            name=name,
            config=_config(self.KIND, name, config),
            search_space=as_space(space),
            config_transform=config_transform,
        )
        self._validate()


def _config(kind: str, name: Any, config: Mapping[str, Any] | None) -> dict[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise InvalidPipelineError(
            f"{kind} {name!r}: config= takes a dict of name to value, got {type(config).__name__}."
        )
    return dict(config)


def _children(kind: str, name: str, nodes: Sequence[Any]) -> tuple[Node, ...]:
    children = tuple(as_node(n) for n in nodes)
    if not children:
        raise InvalidPipelineError(f"{kind} {name!r} needs at least one node.")
    return children


@frozen(init=False, repr=False)
class Sequential(Node):
    """Nodes one after another (``a >> b``); `Pipeline` is its public name.

    Args:
        *nodes: The steps: nodes, classes or functions (`Component`), or objects (`Fixed`).
        name: The node's name.
        config: Options of what a builder makes of it (``memory=`` of scikit-learn's Pipeline).
    """

    KIND: ClassVar[str] = "Sequential"

    def __init__(
        self, *nodes: Any, name: str = "pipeline", config: Mapping[str, Any] | None = None
    ) -> None:
        self.__attrs_init__(
            name=name,
            nodes=_children(self.KIND, name, nodes),
            config=_config(self.KIND, name, config),
        )
        self._validate()


Pipeline = Sequential
"""A pipeline is a `Sequential` of steps: ``Pipeline(imputer, scaler, classifier)``."""


@frozen(init=False, repr=False)
class Choice(Node):
    """One of several nodes (``a | b``): adds ``"<its path>:__choice__"`` to the space.

    Args:
        *nodes: The options.
        name: The node's name.
        weights: The prior probability of each option (default: uniform).
    """

    KIND: ClassVar[str] = "Choice"

    def __init__(
        self, *nodes: Any, name: str = "choice", weights: Sequence[float] | None = None
    ) -> None:
        children = _children(self.KIND, name, nodes)
        if weights is not None:
            weights = tuple(float(w) for w in weights)
            if len(weights) != len(children):
                raise InvalidPipelineError(
                    f"Choice {name!r} has {len(children)} options but {len(weights)} weights."
                )
        self.__attrs_init__(name=name, nodes=children, weights=weights)
        self._validate()
        if weights is not None:  # checked now as the choice's own hyperparameter will be
            names: list[Any] = [c.name for c in children]
            Categorical(names, weights=weights, name=name)


@frozen(init=False, repr=False)
class Join(Node):
    """Nodes side by side whose outputs are joined (``a & b``; a ``FeatureUnion``).

    Args:
        *nodes: The nodes joined.
        name: The node's name.
        config: Options of what a builder makes of it.
    """

    KIND: ClassVar[str] = "Join"

    def __init__(
        self, *nodes: Any, name: str = "join", config: Mapping[str, Any] | None = None
    ) -> None:
        self.__attrs_init__(
            name=name,
            nodes=_children(self.KIND, name, nodes),
            config=_config(self.KIND, name, config),
        )
        self._validate()


@frozen(init=False, repr=False)
class Split(Node):
    """Branches, each on its own selection of the input (a ``ColumnTransformer``).

    Args:
        branches: Branch name to its node or list of nodes (each branch is a `Sequential`
            named by its key).
        config: For every branch, its selection of columns (names, indices, a selector or a
            `request`); other keys are options of what a builder makes (``remainder=``).
        name: The node's name.

    Raises:
        InvalidPipelineError: A branch has no selection in ``config``.

    Example:
        ```python
        from byop.pipeline import Component, Split

        def scale(): ...
        def encode(): ...

        split = Split({"num": scale, "cat": [encode]}, config={"num": [0, 1], "cat": [2]})
        assert [b.name for b in split.nodes] == ["num", "cat"]
        ```
    """

    KIND: ClassVar[str] = "Split"

    def __init__(
        self,
        branches: Mapping[str, Any],
        config: Mapping[str, Any] | None = None,
        *,
        name: str = "split",
    ) -> None:
        if not isinstance(branches, Mapping) or not branches:
            raise InvalidPipelineError(
                f"Split {name!r} takes a dict of branch name to nodes, got {branches!r}."
            )
        children = []
        for branch, nodes in branches.items():
            check_name("Split branch", branch)
            if isinstance(nodes, Sequential):
                children.append(replace(nodes, name=branch))
            elif isinstance(nodes, list | tuple):
                children.append(Sequential(*nodes, name=branch))
            else:
                children.append(Sequential(nodes, name=branch))
        config = dict(config or {})
        missing = [b for b in branches if b not in config]
        if missing:
            raise InvalidPipelineError(
                f"Split {name!r} has no column selection for {missing}: give each branch its "
                f"columns in config=, e.g. config={{{missing[0]!r}: ['col_a', 'col_b']}} (names, "
                "indices, a selector such as make_column_selector, or request('...'))."
            )
        self.__attrs_init__(name=name, nodes=tuple(children), config=config)
        self._validate()

    @property
    def selections(self) -> dict[str, Any]:
        """Branch name to its column selection."""
        return {child.name: self.config[child.name] for child in self.nodes}

    @property
    def options(self) -> dict[str, Any]:
        """The config's entries that are not a branch's selection."""
        branches = {child.name for child in self.nodes}
        return {k: v for k, v in self.config.items() if k not in branches}
