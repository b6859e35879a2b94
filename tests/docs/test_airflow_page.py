"""The Airflow page's blocks, run as the page says: its module on both sides, on a real Airflow.

The page's ``my_objectives.py`` goes where the page puts it, into Airflow's dags folder (which
Airflow's workers import from), and next to the blocks, which run as scripts of their own. The
service's trial DAG allows ``my_objectives`` (``scripts/ci-services``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import services
from support.docblocks import DOCS, blocks, files

PAGE = DOCS / "integrations" / "airflow.md"
BLOCKS = [b for b in blocks(PAGE) if b.run and b.file is None]


def test_the_page_spells_out_its_module_and_runs_its_blocks_on_airflow():
    assert set(files(PAGE)) == {"my_objectives.py"}
    assert len(BLOCKS) == 3
    assert all(b.services == ("airflow",) for b in BLOCKS)


@pytest.fixture(scope="module")
def module_on_both_sides(tmp_path_factory: pytest.TempPathFactory):
    services.need("airflow")
    dags = os.environ.get("BYOP_AIRFLOW_DAGS_FOLDER")
    if not dags:
        pytest.fail("BYOP_AIRFLOW_DAGS_FOLDER is not set (scripts/ci-services up exports it)")
    code = files(PAGE)["my_objectives.py"]
    here = tmp_path_factory.mktemp("airflow-page")
    (here / "my_objectives.py").write_text(code)
    there = Path(dags) / "my_objectives.py"
    there.write_text(code)
    yield here
    there.unlink(missing_ok=True)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_the_block_runs_on_airflow(block, module_on_both_sides):
    proc = subprocess.run(
        [sys.executable, "-c", block.code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=module_on_both_sides,
        check=False,
    )
    assert proc.returncode == 0, f"{block.id} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip()
