"""``import byop.optimization`` stays light: no heavy library is imported with it.

How long the import takes is a timing claim, measured by ``benchmarks/import_time.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = [
    "numpy",
    "smac",
    "optuna",
    "ConfigSpace",
    "dask",
    "distributed",
    "ray",
    "pandas",
    "matplotlib",
    "plotly",
    "sklearn",
    "scipy",
    "cloudpickle",
    "cattrs",
    "pluggy",
]


@pytest.mark.parametrize(
    "statement",
    [
        "import byop.optimization",
        "from byop.optimization import RandomSearch, Trial",
        "from byop.pipeline import searchable",
        "import byop.scheduling",
    ],
)
def test_no_heavy_library_is_imported(statement):
    code = (
        f"{statement}\nimport sys, json\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(json.loads(out))
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_plots_load_plotly_only_when_made():
    # byop.history, byop.cli and byop.visualization import without plotly (or numpy); a
    # plot loads it.
    code = (
        "import sys, byop.history, byop.cli, byop.visualization\n"
        "assert 'plotly' not in sys.modules and 'numpy' not in sys.modules\n"
        "from byop.history import History\n"
        "byop.visualization.plot_optimization_history(History())\n"
        "assert 'plotly' in sys.modules\n"
    )
    pytest.importorskip("plotly")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
