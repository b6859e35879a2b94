"""The README's examples run, in order, as one script (the second builds on the first)."""

from __future__ import annotations

import subprocess
import sys

from support.docblocks import README, blocks


def test_readme_examples_run(tmp_path):
    runnable = [b for b in blocks(README) if b.run]
    assert len(runnable) >= 2
    script = "\n".join(b.code for b in runnable)
    script += "\nassert history.best() is not None\nassert 30 < len(history) <= 100\n"
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "runs" / "poly.jsonl").exists()
