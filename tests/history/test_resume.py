"""A run killed with SIGKILL resumes from its store to exactly its budget."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time

from support.docblocks import ROOT

from byop.history import read_store
from byop.pipeline import config_key

SCRIPT = ROOT / "tests" / "support" / "resumable_run.py"
BUDGET = 200


def start(store):
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(store), str(BUDGET)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes its workers too
        cwd=ROOT,
    )


def wait_for_line(proc, marker: bytes, timeout: float) -> bytes:
    """Read the run's progress lines until one contains ``marker``."""
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    seen = b""
    try:
        while marker not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {marker!r} within {timeout}s; the run said:\n{seen.decode()}"
            if selector.select(timeout=left):
                chunk = os.read(proc.stderr.fileno(), 65536)
                assert chunk, f"the run ended before {marker!r}:\n{seen.decode()}"
                seen += chunk
    finally:
        selector.close()
    return seen


def test_a_killed_run_resumes_to_exactly_its_budget(tmp_path):
    store = tmp_path / "runs" / "resume.jsonl"
    proc = start(store)
    try:
        wait_for_line(proc, f"[{BUDGET * 3 // 10}/{BUDGET}".encode(), timeout=120)
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()

    killed = read_store(store)  # a torn last line is allowed, and dropped
    before = [r.trial.name for r in killed.reports]
    in_flight = killed.in_flight
    assert BUDGET * 3 // 10 <= len(before) < BUDGET
    assert in_flight, "two workers: a trial is always running"
    assert not killed.finished and killed.sessions[0].ended is None

    resumed = subprocess.run(
        [sys.executable, str(SCRIPT), str(store), str(BUDGET)],
        capture_output=True,
        timeout=180,
        cwd=ROOT,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert f"finished {BUDGET}" in resumed.stdout.decode()
    assert f"{len(before)} done before" in resumed.stderr.decode()

    run = read_store(store)
    names = [r.trial.name for r in run.reports]
    assert run.problems == [] and run.in_flight == []
    assert len(names) == BUDGET  # none lost...
    assert len(set(names)) == BUDGET  # ...none counted twice
    assert sorted(names) == sorted(f"rs-{i}" for i in range(BUDGET))
    assert names[: len(before)] == before  # what was stored stays as it was
    # The trials in flight at the kill ran again, as themselves, in the resumed session.
    after = names[len(before) :]
    for trial in in_flight:
        assert trial.name in after
        assert run.history[trial.name].trial.config == trial.config
    # Random search was told the earlier configurations: none was asked twice.
    assert len({config_key(r.trial.config) for r in run.reports}) == BUDGET
    assert [s.exit_status for s in run.sessions] == [None, "exhausted"]
    assert run.sessions[1].pid != run.sessions[0].pid
