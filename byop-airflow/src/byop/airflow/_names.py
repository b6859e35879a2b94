"""Module names: what the trial DAG allows to run (light: the DAG file imports it)."""

from __future__ import annotations

import importlib
import re

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_module_name(name: str) -> str:
    """``name`` if it is a dotted module name, else `ValueError`."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{name!r} is not a module name (like 'mypackage.objectives').")
    if not all(_IDENTIFIER.match(part) for part in name.split(".")):
        raise ValueError(f"{name!r} is not a module name (like 'mypackage.objectives').")
    return name


def allowed(module: str, allow: tuple[str, ...]) -> bool:
    """Whether ``module`` is one of ``allow`` or inside one of them (``"pkg"`` allows ``pkg.x``)."""
    return any(module == prefix or module.startswith(prefix + ".") for prefix in allow)


def preload(module: str) -> None:
    """Import ``module``: what byop's sandbox runs before a call of a function of it.

    Here, where importing it costs a sandbox nothing more than the module itself.
    """
    importlib.import_module(module)
