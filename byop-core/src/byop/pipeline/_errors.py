"""Errors in defining a search space or a pipeline, configuring it, or building it."""

from __future__ import annotations


class InvalidSpaceError(ValueError):
    """A search space is not valid; the message says which entry and how to write it."""


class InvalidPipelineError(InvalidSpaceError):
    """A pipeline is not well formed: a bad or duplicated name, a Split with no columns...

    The message names the nodes involved and how to fix them.
    """


class ConfigurationError(ValueError):
    """A configuration does not fit the pipeline it configures.

    Its subclasses say how: `UnknownKeyError`, `OutOfRangeError`, `MissingParamError`.
    """


class UnknownKeyError(ConfigurationError):
    """A configuration key matches no hyperparameter of the pipeline (the message lists some)."""


class OutOfRangeError(ConfigurationError):
    """A configuration value is not a value of its hyperparameter."""


class MissingParamError(ConfigurationError):
    """A node's ``request(...)`` has no value in ``params=`` and no default."""


class BuildError(ValueError):
    """A pipeline cannot be built as it is (a choice not made, a node with nothing to build)."""
