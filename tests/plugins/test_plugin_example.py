"""docs/plugins.md's example plugin works as the page shows it, installed from wheels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_plugin_page_s_example_passes_the_suites_from_a_wheel_in_a_fresh_venv():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "plugin_example.py")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    assert "passed" in proc.stdout and "failed" not in proc.stdout
    assert "plugin example: optimize with the grid, the pool back end and the sampler ok" in (
        proc.stdout
    )
