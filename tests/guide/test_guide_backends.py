"""The guide's "Scaling Up" example on Dask, Ray, Slurm and Airflow: ``with_processes(n)`` replaced.

Each variant runs as a script, as the guide writes it (no ``__main__`` guard), and must return
within its timeout (starting the cluster or connecting to it counts), having told the
optimizer every trial it ran, and leaving no process behind. ``dask-local`` needs no service;
the others run on the services that ``support.services`` names.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from guide.test_guide_parallel import HEADER, TRAILER, _check
from support import services
from support.guide_blocks import parallel_block

ORIGINAL = "scheduler = Scheduler.with_processes(n_workers)"


def _replacement(backend: str, tmp_path: Path) -> str:
    if backend == "dask-local":
        return 'scheduler = Scheduler.with_backend("dask", n_workers=n_workers)'
    if backend == "dask":
        return f'scheduler = Scheduler.with_backend("dask", address={services.dask_address()!r})'
    if backend == "ray":
        return f'scheduler = Scheduler.with_backend("ray", address={services.need("ray")!r})'
    options = ", ".join(f"{k}={v!r}" for k, v in services.slurm_options(str(tmp_path)).items())
    return f'scheduler = Scheduler.with_backend("slurm", n_workers=n_workers, {options})'


@pytest.mark.parametrize("backend", ["dask-local", "dask", "ray", "slurm"])
def test_scaling_up_on(backend, tmp_path):
    if backend != "dask-local":
        services.need(backend)
    block = parallel_block("scaling-up")
    assert ORIGINAL in block.code
    code = HEADER + block.code.replace(ORIGINAL, _replacement(backend, tmp_path)) + TRAILER
    script = tmp_path / "block.py"
    script.write_text(code)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ""},
        check=False,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    check = _check(proc.stdout)
    assert check["status"] == "timeout"
    # run() returns within its timeout, plus the moment it takes to disconnect from the cluster
    # (or to stop the one byop started).
    assert check["runs"][0] <= 5 + 2.0, check
    assert elapsed < 5 + 30, elapsed  # the interpreter, imports, and shutting the cluster
    if backend != "slurm":
        assert check["results"] > 0, check
    # On Slurm, the workers are batch jobs that start in about 4 s here: a busy machine may
    # leave none of them time to report within the 5 s.
    assert check["all_floats"]
    # Every trial that ran was told; only launches refused after the deadline stay untold.
    assert check["pending"] == check["refused"] <= 4
    assert check["children"] == 0


POLY = re.compile(r"^def poly\(trial\):\n.*?\n    trial\.fail\(\)\n", re.DOTALL | re.MULTILINE)


def test_scaling_up_on_airflow(tmp_path):
    """On Airflow, the objective comes from a module its workers import (the guide's own ``poly``
    is in ``__main__``, which they cannot), and the run gets the seconds a DAG run takes."""
    services.need("airflow")
    block = parallel_block("scaling-up")
    assert ORIGINAL in block.code
    code, n = POLY.subn("from support.objectives import poly  # the same function\n", block.code)
    assert n == 1, "the guide's poly moved: update this test"
    code = code.replace(ORIGINAL, 'scheduler = Scheduler.with_backend("airflow")')
    assert "scheduler.run(timeout=5)" in code
    code = code.replace("scheduler.run(timeout=5)", "scheduler.run(timeout=20)")
    script = tmp_path / "block.py"
    script.write_text(HEADER + code + TRAILER)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(services.__file__).parents[1])},
        check=False,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    check = _check(proc.stdout)
    assert check["status"] == "timeout"
    # After its timeout, run() waits for the trials in flight: a DAG run each, seconds long.
    assert check["runs"][0] <= 20 + 60, check
    assert elapsed < 20 + 90, elapsed
    assert check["results"] > 0, check
    assert check["all_floats"]
    assert check["pending"] == check["refused"] <= 4
    assert check["children"] == 0
