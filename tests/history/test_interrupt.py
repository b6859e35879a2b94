"""Ctrl-C in `optimize`: a real SIGINT to a process running it (and its process group)."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from support.docblocks import ROOT

from byop.history import read_store
from byop.run import optimize

SCRIPT = ROOT / "tests" / "support" / "interruptible_run.py"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a process group")


class Run:
    """The script in a process group of its own, as a terminal's Ctrl-C would reach it."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.store = tmp_path / "run.jsonl"
        self.pids = tmp_path / "pids"
        self.pids.mkdir()
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(self.store), str(self.pids), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
        self.seen = b""

    def wait_for(self, marker: bytes, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while self.seen.count(marker) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"no {marker!r} x{count} in {timeout}s:\n{self.seen.decode()}"
                if selector.select(timeout=left):
                    chunk = os.read(self.proc.stdout.fileno(), 65536)
                    assert chunk, f"the run ended before {marker!r}:\n{self.seen.decode()}"
                    self.seen += chunk
        finally:
            selector.close()

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)

    def finish(self, timeout: float) -> str:
        out, _ = self.proc.communicate(timeout=timeout)
        self.seen += out
        return self.seen.decode()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def objective(trial):
    return trial.success(cost=trial.config["x"] ** 2)


def assert_workers_gone(pids: Path) -> None:
    procs = []
    for f in pids.iterdir():
        with contextlib.suppress(psutil.NoSuchProcess):  # ended already
            procs.append(psutil.Process(int(f.name)))
    _, alive = psutil.wait_procs(procs, timeout=10)
    assert not alive, f"workers still running after Ctrl-C: {alive}"


def resume_adds_three(store: Path) -> None:
    done = len(read_store(store).reports)
    history = optimize(
        objective,
        {"x": (-5.0, 5.0)},
        seed=0,
        backend="threads",
        max_trials=done + 3,
        store=store,
        progress="off",
    )
    assert len(history) == done + 3


def test_ctrl_c_stops_the_run_with_its_summary_and_a_hint(tmp_path):
    run = Run(tmp_path)
    try:
        run.wait_for(b"REPORT", count=4)
        run.ctrl_c()
        out = run.finish(timeout=60)
    finally:
        run.kill()
    assert run.proc.returncode == -signal.SIGINT, out  # as Python reports an unhandled Ctrl-C
    assert "ENDING interrupted" in out
    assert "status   trials" in out and "interrupted  Ctrl-C" in out  # the summary
    last = out.strip().splitlines()[-1]
    assert last.startswith("KeyboardInterrupt: byop: run interrupted after "), out
    assert f"store={str(run.store)!r}" in last
    # One frame of byop in the traceback (where optimize raises), none of its loop's.
    assert "_session.py" not in out and "_scheduler.py" not in out and "_process.py" not in out
    assert_workers_gone(run.pids)
    stored = read_store(run.store)
    assert stored.sessions[-1].exit_status == "interrupted"
    resume_adds_three(run.store)


def test_a_second_ctrl_c_stops_at_once(tmp_path):
    run = Run(tmp_path, "slow-end")
    try:
        run.wait_for(b"REPORT", count=4)
        run.ctrl_c()
        run.wait_for(b"ENDING interrupted")  # the end callback now takes a minute
        started = time.monotonic()
        run.ctrl_c()
        out = run.finish(timeout=30)
        took = time.monotonic() - started
    finally:
        run.kill()
    assert run.proc.returncode == -signal.SIGINT, out
    assert took < 20, f"the second Ctrl-C took {took:.1f}s"
    assert "status   trials" not in out  # no summary: stopped at once
    last = out.strip().splitlines()[-1]
    assert last.startswith("KeyboardInterrupt: byop: run stopped at once by a second Ctrl-C"), out
    assert_workers_gone(run.pids)
    # The store was ended before the callbacks were called: intact, and resumable.
    assert read_store(run.store).sessions[-1].exit_status == "interrupted"
    resume_adds_three(run.store)
