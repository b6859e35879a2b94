"""`Node`: what every pipeline node has, and how nodes combine (``>>``, ``|``, ``&``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs
from attrs import field, frozen

from byop.pipeline._errors import InvalidPipelineError
from byop.pipeline._space import SEPARATOR, Space

if TYPE_CHECKING:
    from byop.pipeline._nodes import Choice, Join, Sequential

CHOICE = "__choice__"
"""The name of a `Choice`'s own hyperparameter: ``"<path of the choice>:__choice__"``."""

NodeT = TypeVar("NodeT", bound="Node")

ConfigTransform = Callable[[dict[str, Any]], Mapping[str, Any]]
"""``config_transform(config) -> config``: runs last when a node is configured."""


def as_space(value: Mapping[str, Any] | Space | None) -> Space:
    """A node's own space from a dictionary, a `Space` or nothing."""
    if value is None:
        return Space([])
    return Space.from_dict(value)


def check_name(node: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidPipelineError(f"A {node} needs a non-empty str name, got {name!r}.")
    if SEPARATOR in name:
        raise InvalidPipelineError(
            f"{node} {name!r}: names may not contain {SEPARATOR!r}, which joins the names of a "
            f"path (hyperparameter keys are 'parent{SEPARATOR}child{SEPARATOR}name'); "
            f"rename it, e.g. {name.replace(SEPARATOR, '_')!r}."
        )
    if name == CHOICE:
        raise InvalidPipelineError(f"{node}: {CHOICE!r} is reserved for a Choice's own key.")
    return name


@frozen(init=False, repr=False)
class Node:
    """What every pipeline node has.

    Attributes:
        name: The node's name: a step of every path through it.
        nodes: The child nodes.
        item: What the node builds: a class or function (`Component`), an object (`Fixed`).
        config: Fixed values for the item, possibly `request` placeholders.
        search_space: The node's own hyperparameters (names relative to the node).
        config_transform: ``config_transform(config) -> config``, run last by `configure`.
        weights: A `Choice`'s weights for its children (else ``None``).
    """

    name: str
    nodes: tuple[Node, ...] = ()
    item: Any = None
    config: dict[str, Any] = field(factory=dict)
    search_space: Space = field(factory=lambda: Space([]))
    config_transform: ConfigTransform | None = None
    weights: tuple[float, ...] | None = None

    KIND: ClassVar[str] = "Node"

    def _validate(self) -> None:
        check_name(self.KIND, self.name)
        if not isinstance(self.config, dict):
            raise InvalidPipelineError(
                f"{self.KIND} {self.name!r}: config= takes a dict, got "
                f"{type(self.config).__name__}."
            )
        if self.config_transform is not None and not callable(self.config_transform):
            raise InvalidPipelineError(
                f"{self.KIND} {self.name!r}: config_transform= takes a function config -> config."
            )
        both = sorted(set(self.config) & set(self.search_space.names))
        if both:
            raise InvalidPipelineError(
                f"{self.KIND} {self.name!r}: {both} are in both config= and space=; a value is "
                "either fixed (config) or searched (space)."
            )
        seen: dict[str, Node] = {}
        for child in self.nodes:
            if child.name in seen:
                raise InvalidPipelineError(
                    f"{self.KIND} {self.name!r} has two children named {child.name!r} "
                    f"({seen[child.name].KIND} and {child.KIND}): sibling names must be unique, "
                    "since keys are paths of names; give one of them name=..."
                )
            if child.name == self.name:
                raise InvalidPipelineError(
                    f"{self.KIND} {self.name!r} has a child {child.KIND} of the same name: a "
                    "parent and its child never share a name (their keys would read alike); "
                    "rename one of them."
                )
            seen[child.name] = child

    # ---------------------------------------------------------------- combining
    def __rshift__(self, other: Any) -> Sequential:
        from byop.pipeline._nodes import Sequential, as_node

        if type(self) is Sequential:
            return replace(self, nodes=(*self.nodes, as_node(other)))
        return Sequential(self, as_node(other))

    def __rrshift__(self, other: Any) -> Sequential:
        from byop.pipeline._nodes import Sequential, as_node

        return Sequential(as_node(other), self)

    def __or__(self, other: Any) -> Choice:
        from byop.pipeline._nodes import Choice, as_node

        if type(self) is Choice:
            return Choice(*self.nodes, as_node(other), name=self.name)
        return Choice(self, as_node(other))

    def __and__(self, other: Any) -> Join:
        from byop.pipeline._nodes import Join, as_node

        if type(self) is Join:
            return Join(*self.nodes, as_node(other), name=self.name)
        return Join(self, as_node(other))

    # ---------------------------------------------------------------- queries
    def walk(self, path: str = "") -> Iterator[tuple[str, Node]]:
        """Every node below and including this one, with its path (``""`` for this one)."""
        yield path, self
        for child in self.nodes:
            yield from child.walk(f"{path}{SEPARATOR}{child.name}" if path else child.name)

    def __getitem__(self, path: str) -> Node:
        """The node at ``path`` (names joined with ``:``) below this one."""
        for here, node in self.walk():
            if here == path:
                return node
        children = [c.name for c in self.nodes]
        raise KeyError(f"No node at {path!r} in {self.KIND} {self.name!r}; children: {children}.")

    # ---------------------------------------------------------------- spaces, configs, builds
    def space(self, parser: str | None = None, **kwargs: Any) -> Any:
        """The search space of this node and every node below it.

        Keys are the ``:``-joined paths of node names from this node down (this node's own
        hyperparameters keep their names). A `Choice` adds ``"<its path>:__choice__"``, and
        every hyperparameter under one of its children is active only when it is chosen.

        Args:
            parser: A registered space parser's name (``"configspace"``, ``"optuna"``), or
                ``None`` for byop's own `Space`.
            **kwargs: Passed to the parser.

        Example:
            ```python
            from byop.pipeline import Component, Choice

            def svc(C=1.0): ...
            def knn(k=5): ...

            clf = Choice(Component(svc, space={"C": (0.1, 10.0)}),
                         Component(knn, space={"k": (1, 30)}), name="clf")
            space = clf.space()
            assert space.names == ("__choice__", "svc:C", "knn:k")
            assert space.active({"__choice__": "knn", "svc:C": 1.0, "knn:k": 3}) == {
                "__choice__": "knn", "knn:k": 3}
            ```
        """
        from byop.pipeline._paths import space_of

        space = space_of(self)
        if parser is None:
            return space
        from byop.plugins import get

        return get("space_parsers", parser).obj(space, **kwargs)

    def configure(
        self, config: Mapping[str, Any], *, params: Mapping[str, Any] | None = None
    ) -> Node:
        """A new node with only the chosen branches and every value set.

        Each node's hyperparameters take their values from ``config`` (keys as in `space`;
        a missing key takes its hyperparameter's default), its `request` placeholders from
        ``params``, and then its ``config_transform`` runs. A `Choice` keeps only its
        chosen child.

        Raises:
            UnknownKeyError: A key of ``config`` matches no hyperparameter.
            OutOfRangeError: A value is not a value of its hyperparameter.
            MissingParamError: A `request` has no value in ``params`` and no default.

        Example:
            ```python
            from byop.pipeline import Component, request

            def model(C=1.0, seed=None):
                return {"C": C, "seed": seed}

            node = Component(model, space={"C": (0.1, 10.0)}, config={"seed": request("seed")})
            configured = node.configure({"C": 2.0}, params={"seed": 1})
            assert configured.config == {"seed": 1, "C": 2.0}
            ```
        """
        from byop.pipeline._paths import configure

        return configure(self, config, params or {})

    def build(self, builder: str, **options: Any) -> Any:
        """Build this (configured) node with a registered builder, e.g. ``"sklearn"``.

        Raises:
            BuildError: A `Choice` still has several children (configure first), a `request`
                is not filled, or a node has nothing to build.
            byop.plugins.UnknownFeatureError: No plugin registers ``builder``; the message lists
                the registered ones and what to install.
        """
        from byop.pipeline._paths import check_buildable
        from byop.plugins import get

        registration = get("builders", builder)
        check_buildable(self)
        return registration.obj(self, **options)

    def __repr__(self) -> str:
        parts = [repr(self.name)]
        if self.item is not None:
            parts.insert(0, getattr(self.item, "__name__", None) or repr(self.item))
        if len(self.search_space):
            parts.append(f"space={list(self.search_space.names)}")
        if self.config:
            parts.append(f"config={self.config!r}")
        if self.nodes:
            parts.append(f"nodes=[{', '.join(repr(n) for n in self.nodes)}]")
        return f"{self.KIND}({', '.join(parts)})"


def replace(node: NodeT, **changes: Any) -> NodeT:
    """A copy of ``node`` with some fields changed (checked as a new node is)."""
    values = {f.name: getattr(node, f.name) for f in attrs.fields(type(node))}
    values.update(changes)
    new = object.__new__(type(node))
    new.__attrs_init__(**values)
    new._validate()
    return new
