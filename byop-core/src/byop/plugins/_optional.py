"""Importing optional, heavy libraries with an error that says what to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from byop.plugins._errors import MissingDependencyError


def import_optional(module: str, *, install: str, feature: str | None = None) -> ModuleType:
    """Import ``module``, or raise an error that names the package to install.

    Args:
        module: The module to import, e.g. ``"ConfigSpace"``.
        install: What the user should install, e.g. ``"byop[configspace]"``.
        feature: What needed the module, for the message.

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: The module is not installed.

    Example:
        ```python
        from byop.plugins import import_optional

        json = import_optional("json", install="python itself")
        assert json.dumps([1]) == "[1]"
        ```
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is not None and module.split(".", maxsplit=1)[0] != e.name.split(".")[0]:
            raise  # something inside the module is missing: not our diagnosis to make
        what = feature or module
        raise MissingDependencyError(
            f"{what} needs the {module!r} package, which is not installed. "
            f"Install it with: pip install {install}"
        ) from e
