"""The guide's parallel blocks, run as written: as a script and with ``python -c``.

A script is run without an ``if __name__ == "__main__":`` guard, as the guide writes it; with
``python -c`` the functions live in ``__main__``, as in a notebook. A small header times
``Scheduler.run`` and a trailer prints what the block produced.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from support.guide_blocks import PARALLEL, parallel_block

HEADER = """\
import time as _t
from byop.scheduling import Scheduler as _S
_run = _S.run
_runs = []
def _timed(self, **kwargs):
    start = _t.monotonic()
    try:
        return _run(self, **kwargs)
    finally:
        _runs.append(_t.monotonic() - start)
_S.run = _timed
"""

TRAILER = """
import json as _json
import psutil as _psutil
print("BYOP-CHECK " + _json.dumps({
    "results": len(results),
    "all_floats": all(isinstance(c, float) for c in results),
    "pending": len(random_search._pending),
    "refused": scheduler.refused,
    "status": str(scheduler.status),
    "runs": _runs,
    "children": len(_psutil.Process().children(recursive=True)),
}))
"""


def _check(stdout: str) -> dict:
    line = next(x for x in stdout.splitlines() if x.startswith("BYOP-CHECK "))
    return json.loads(line.removeprefix("BYOP-CHECK "))


@pytest.mark.parametrize("how", ["script", "python -c"])
@pytest.mark.parametrize("name", list(PARALLEL))
def test_parallel_block(name, how, tmp_path):
    n_workers = PARALLEL[name][2]
    block = parallel_block(name)
    assert "scheduler.run(timeout=5)" in block.code
    code = HEADER + block.code + TRAILER
    if how == "script":
        path = tmp_path / "block.py"
        path.write_text(code)
        cmd = [sys.executable, str(path)]
    else:
        cmd = [sys.executable, "-c", code]
    start = time.monotonic()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    check = _check(proc.stdout)
    assert check["status"] == "timeout"
    assert len(check["runs"]) == 1
    assert check["runs"][0] <= 5 + 1.0, check  # run() returns within timeout + 1 s
    assert elapsed < 5 + 10
    assert check["results"] > 100  # costs were collected
    assert check["all_floats"]
    # Every trial that ran was told; the only trials asked and not told are those whose
    # launch the scheduler refused after the deadline (at most one per worker).
    assert check["pending"] == check["refused"] <= n_workers
    assert check["children"] == 0  # no worker process outlives run()
