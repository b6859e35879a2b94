"""Building scikit-learn estimators from configured byop pipelines."""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any

from byop.pipeline import (
    BuildError,
    Choice,
    Component,
    Fixed,
    Join,
    Node,
    Searchable,
    Sequential,
    Split,
    check_buildable,
)
from byop.plugins import import_optional

INSTALL = "byop[sklearn]"


def sklearn_module(name: str = "sklearn") -> ModuleType:
    """A module of scikit-learn, imported on first use, or an error naming what to install."""
    return import_optional(name, install=INSTALL, feature="byop.sklearn")


def build(node: Node, *, pipeline_type: type | None = None, **options: Any) -> Any:
    """A scikit-learn estimator of a configured pipeline: the builder ``"sklearn"``.

    - `Sequential` (`Pipeline`) becomes ``pipeline_type(steps, **config, **options)`` (by
      default ``sklearn.pipeline.Pipeline``), each step named by its node;
    - `Split` becomes a ``ColumnTransformer``, a branch per child on its column selection
      (other keys of its config are the transformer's options, ``remainder=`` say);
    - `Join` becomes a ``FeatureUnion``;
    - `Component` becomes ``item(**config)``; `Fixed` a clone of its object (a copy, for an
      object that is not an estimator); a configured `Choice` its chosen child.

    Args:
        node: The configured pipeline (``pipeline.configure(config)``).
        pipeline_type: The class for each `Sequential`, e.g. imbalanced-learn's ``Pipeline``:
            anything created as ``pipeline_type(steps, **kwargs)``.
        **options: More keyword arguments for each pipeline made (``memory=``, ``verbose=``).

    Raises:
        BuildError: A choice is not made, a `Searchable` has nothing to build, or an item
            rejects its config (the message names the node).

    Example:
        ```python
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        from byop.pipeline import Component, Pipeline

        pipeline = Pipeline(StandardScaler, Component(SVC, space={"C": (0.1, 10.0)}))
        model = pipeline.configure({"SVC:C": 2.0}).build("sklearn")
        assert model.named_steps["SVC"].C == 2.0
        ```
    """
    check_buildable(node)
    if pipeline_type is None:
        pipeline_type = sklearn_module("sklearn.pipeline").Pipeline
    return _build(node, "", pipeline_type, options)


def _build(node: Node, path: str, pipeline_type: type, options: dict[str, Any]) -> Any:
    where = f"{node.KIND} {node.name!r}" + (f" (at {path!r})" if path else "")

    def child_path(child: Node) -> str:
        return f"{path}:{child.name}" if path else child.name

    if isinstance(node, Choice):
        return _build(node.nodes[0], child_path(node.nodes[0]), pipeline_type, options)
    if isinstance(node, Sequential):
        steps = [(c.name, _build(c, child_path(c), pipeline_type, options)) for c in node.nodes]
        return _make(where, pipeline_type, steps, {**node.config, **options})
    if isinstance(node, Split):
        compose = sklearn_module("sklearn.compose")
        transformers = [
            (c.name, _build(c, child_path(c), pipeline_type, options), node.config[c.name])
            for c in node.nodes
        ]
        return _make(where, compose.ColumnTransformer, transformers, node.options)
    if isinstance(node, Join):
        union = sklearn_module("sklearn.pipeline").FeatureUnion
        parts = [(c.name, _build(c, child_path(c), pipeline_type, options)) for c in node.nodes]
        return _make(where, union, parts, node.config)
    if isinstance(node, Fixed):
        base = sklearn_module("sklearn.base")
        if hasattr(node.item, "get_params"):
            return base.clone(node.item)
        return copy.deepcopy(node.item)
    if isinstance(node, Component):
        try:
            return node.item(**node.config)
        except (TypeError, ValueError) as e:
            raise BuildError(
                f"Building {where} as {_label(node.item)}(**{node.config}) failed: {e}"
            ) from e
    if isinstance(node, Searchable):  # pragma: no cover - check_buildable says so first
        raise BuildError(f"{where} has no item to build.")
    raise BuildError(f"The sklearn builder does not know how to build {where}.")


def _make(where: str, cls: Any, parts: list[Any], kwargs: dict[str, Any]) -> Any:
    try:
        return cls(parts, **kwargs)
    except (TypeError, ValueError) as e:
        raise BuildError(f"Building {where} as {_label(cls)} failed: {e}") from e


def _label(item: Any) -> str:
    return str(getattr(item, "__qualname__", None) or getattr(item, "__name__", None) or item)
