"""The ``sklearn`` plugin: the pipeline builder. Imports scikit-learn only when used."""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_builders(register: Register) -> None:
    """``pipeline.build("sklearn")``: a scikit-learn estimator of a configured pipeline."""
    from byop.sklearn._builder import build

    register("sklearn", build)
