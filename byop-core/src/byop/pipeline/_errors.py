"""Errors in defining a search space."""

from __future__ import annotations


class InvalidSpaceError(ValueError):
    """A search space is not valid; the message says which entry and how to write it."""
