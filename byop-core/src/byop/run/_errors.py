"""Errors of the one-call run."""

from __future__ import annotations


class NoRunLimitsError(ValueError):
    """`optimize` was called without run limits: neither ``max_trials`` nor ``timeout``."""


class ResumeNotSupportedError(TypeError):
    """A stored run was to be resumed with an optimizer that cannot take earlier reports."""
