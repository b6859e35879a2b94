"""Shared fixtures for the cross-package tests."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from support.docblocks import Block
from support.services import slurm_cluster  # noqa: F401 - a fixture for the back-end tests


@pytest.fixture
def run_block() -> Iterator[Any]:
    """Run a docs block in a fresh ``__main__``-like namespace; returns (namespace, stdout)."""

    def run(block: Block) -> tuple[dict[str, Any], str]:
        namespace: dict[str, Any] = {"__name__": "__main__"}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block.code, f"<{block.id}>", "exec"), namespace)
        return namespace, out.getvalue()

    yield run
