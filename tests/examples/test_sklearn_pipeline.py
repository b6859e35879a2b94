"""The scikit-learn pipeline example runs as a user would run it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
from support.docblocks import ROOT

EXAMPLE = ROOT / "examples" / "sklearn_pipeline.py"

pytest.importorskip("byop.smac", reason="needs byop[smac]")
pytest.importorskip("byop.sklearn", reason="needs byop[sklearn]")


def test_example_tunes_a_pipeline_with_smac_on_two_workers_with_limits(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--trials", "12"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"^12 trials in [\d.]+s$", out, re.M), out
    statuses = ast.literal_eval(re.search(r"^statuses: (.*)$", out, re.M).group(1))
    assert sum(statuses.values()) == 12
    best = ast.literal_eval(re.search(r"^best configuration: (.*)$", out, re.M).group(1))
    chosen = best["classifier:__choice__"]
    # Exactly the chosen classifier's hyperparameters are in the config.
    for key in best:
        if key.startswith("classifier:") and key != "classifier:__choice__":
            assert key.startswith(f"classifier:{chosen}:"), best
    assert float(re.search(r"^held-out accuracy: ([\d.]+)$", out, re.M).group(1)) > 0.9
    assert list(tmp_path.iterdir()) == [], "the example wrote into the working directory"


def test_example_has_an_imputer_a_scaler_choice_and_three_classifiers_on_processes():
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import sklearn_pipeline
    finally:
        sys.path.pop(0)
    space = sklearn_pipeline.PIPELINE.space()
    assert "SimpleImputer:strategy" in space
    assert len(space["scaler:__choice__"].choices) >= 2
    classifiers = space["classifier:__choice__"].choices
    assert len(classifiers) >= 3
    for name in classifiers:
        assert any(key.startswith(f"classifier:{name}:") for key in space.names), name
    source = EXAMPLE.read_text()
    assert 'optimizer="smac"' in source and "n_workers=2" in source
    assert "memory_limit=" in source and "wall_time_limit=" in source
