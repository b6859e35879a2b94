"""Errors raised by the plugin system."""

from __future__ import annotations


class PluginLoadError(ImportError):
    """A plugin failed to load while loading is strict (``BYOP_STRICT_PLUGINS=1``)."""


class UnknownFeatureError(LookupError):
    """No plugin registered a feature (optimizer, sampler, parser, back end or builder) by name."""

    def __init__(self, kind: str, name: str, available: list[str], hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.available = available
        self.hint = hint
        listed = ", ".join(repr(a) for a in available) if available else "none"
        message = f"No {kind} named {name!r} is registered. Available: {listed}."
        if hint:
            message += f" {hint}"
        super().__init__(message)

    def __str__(self) -> str:
        # LookupError would quote the message like a dictionary key.
        return str(self.args[0])


class MissingDependencyError(ImportError):
    """An optional library that a feature needs is not installed.

    The message names what to install, for example ``pip install byop[smac]``.
    """
