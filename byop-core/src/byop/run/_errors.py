"""Errors of the one-call run."""

from __future__ import annotations


class NoBudgetError(ValueError):
    """`optimize` was called without a budget: no ``max_trials``, ``timeout`` or ``stop_when``."""


class ResumeNotSupportedError(TypeError):
    """A stored run was to be resumed with an optimizer that cannot take earlier reports."""
