"""The shape of the code: small modules, and the import-linter contracts that `make lint` runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500


def test_no_module_of_byop_core_is_longer_than_500_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "byop-core" / "src").rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules by job: {long}"


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        lint = Path(shutil.which("lint-imports") or "lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is installed by `make dev`")
    proc = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout
    # The one ignored import is Trial.Task's link upward, and no other.
    assert "(1 ignored import)" in proc.stdout
