"""Errors of the one-call run."""

from __future__ import annotations


class NoRunLimitsError(ValueError):
    """`optimize` was called without run limits: no ``max_trials``, ``timeout`` or ``stop_when``."""


class ResumeNotSupportedError(TypeError):
    """A stored run was to be resumed with an optimizer that cannot take earlier reports."""
