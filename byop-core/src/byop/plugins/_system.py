"""The one plugin system the process shares, and functions over it."""

from __future__ import annotations

import threading

from byop.plugins._manager import Kind, PluginInfo, PluginSystem, Registration

_lock = threading.Lock()
_system: PluginSystem | None = None


def plugin_system() -> PluginSystem:
    """The process's plugin system; created, not yet loaded, on first use."""
    global _system  # noqa: PLW0603
    if _system is None:
        with _lock:
            if _system is None:
                _system = PluginSystem()
    return _system


def reset() -> None:
    """Forget every loaded plugin; the next query discovers them again (for tests)."""
    global _system  # noqa: PLW0603
    with _lock:
        _system = None


def list_plugins() -> list[PluginInfo]:
    """Every plugin: name, distribution, version, hooks, and the error if it failed.

    Example:
        ```python
        from byop.plugins import list_plugins

        core = next(p for p in list_plugins() if p.name == "byop.optimization")
        assert core.distribution == "byop-core" and "register_optimizers" in core.hooks
        ```
    """
    return plugin_system().plugins()


def registry(kind: Kind) -> dict[str, Registration]:
    """Name to `Registration` for one kind.

    Kinds: ``optimizers``, ``samplers``, ``space_parsers``, ``backends``, ``builders``, ``pruners``.
    """
    return plugin_system().registry(kind)


def available(kind: Kind) -> list[str]:
    """The names registered for one kind, sorted."""
    return plugin_system().available(kind)


def get(kind: Kind, name: str, *, hint: str | None = None) -> Registration:
    """The feature of one kind registered as ``name``.

    Raises:
        UnknownFeatureError: Nothing is registered under that name; the message lists the
            names that are, and ``hint`` if given.
    """
    return plugin_system().get(kind, name, hint=hint)


def add_plugin(plugin: object, name: str) -> None:
    """Register a plugin object directly, without an entry point (tests, applications)."""
    plugin_system().add(plugin, name)


def remove_plugin(name: str) -> None:
    """Unregister a plugin by name."""
    plugin_system().remove(name)
