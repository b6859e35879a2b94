"""The scikit-learn + SMAC example runs as a user would run it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
from support.docblocks import ROOT

EXAMPLE = ROOT / "examples" / "smac_svc_digits.py"

pytest.importorskip("byop.smac", reason="needs byop[smac]")
pytest.importorskip("sklearn", reason="needs scikit-learn")


def test_example_tunes_an_svc_on_two_workers_with_limits(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=120,  # the example promises under 2 minutes
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"^40 trials in [\d.]+s \(exhausted\)$", out, re.M), out
    statuses = ast.literal_eval(re.search(r"^statuses: (.*)$", out, re.M).group(1))
    assert sum(statuses.values()) == 40
    best = ast.literal_eval(re.search(r"^best configuration: (.*)$", out, re.M).group(1))
    assert best["kernel"] in {"rbf", "poly"}
    assert ("degree" in best) == (best["kernel"] == "poly")
    accuracy = float(re.search(r"^best accuracy: ([\d.]+)$", out, re.M).group(1))
    assert accuracy > 0.95  # an RBF SVC reaches ~0.97 on digits; the default config ~0.10
    assert list(tmp_path.iterdir()) == [], "the example wrote into the working directory"


def test_example_uses_the_scheduler_with_processes_and_limits():
    source = EXAMPLE.read_text()
    assert "Scheduler.with_processes(2)" in source
    assert 'memory_limit="1GB"' in source
    assert "wall_time_limit=30" in source
