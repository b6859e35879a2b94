"""Errors of the one-call run."""

from __future__ import annotations


class NoBudgetError(ValueError):
    """`optimize` was called without a budget: neither ``max_trials`` nor ``timeout``."""


class ResumeNotSupportedError(TypeError):
    """A stored run was to be resumed with an optimizer that cannot take earlier reports."""
