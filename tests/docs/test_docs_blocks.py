"""Every python block of the docs runs, as written, in a fresh interpreter."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from support import services
from support.docblocks import ROOT, all_blocks
from support.guide_blocks import PARALLEL, parallel_block

# The guide's parallel blocks run twice each in tests/guide, with more checks; the files of an
# example project (<!-- file: ... -->) are built and tested as that project, in tests/plugins;
# the Airflow page's blocks run with its module on Airflow's workers, in test_airflow_page.py.
COVERED = {parallel_block(name).line for name in PARALLEL}
RUNNABLE = [
    b
    for b in all_blocks()
    if b.run
    and b.file is None
    and not (b.path.name == "optimization.md" and b.line in COVERED)
    and b.path.name != "airflow.md"
]


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_docs_block_runs(block):
    missing = [m for m in block.requires if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {missing}")
    code = block.code
    for service in block.services:  # <!-- service: slurm -->: runs on the real service
        address = services.need(service)
        if service in services.DEFAULT_ADDRESS:  # the page's address, or the session's own
            assert services.DEFAULT_ADDRESS[service] in code, block.id
            code = code.replace(services.DEFAULT_ADDRESS[service], address)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, f"{block.id} failed:\n{proc.stdout}\n{proc.stderr}"


def test_illustrations_are_few():
    # Blocks may opt out of running only as marked illustrations.
    assert len([b for b in all_blocks() if not b.run]) <= 12
