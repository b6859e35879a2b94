"""Putting back what a call changed where it ran (byop.scheduling._leftovers)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import psutil

from byop.scheduling._leftovers import end_new_children, pids, thread_children


def _run(code: str) -> str:
    # In a child interpreter: ProcessState(watch=True) wraps functions of `os` there.
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_directory_and_the_environment_come_back(tmp_path):
    out = _run(
        f"""
        import os, shutil, tempfile
        from byop.scheduling._leftovers import ProcessState

        for watch in (False, True):
            here, environ = os.getcwd(), dict(os.environ)
            state = ProcessState(watch=watch)
            os.chdir({str(tmp_path)!r})
            os.environ["BYOP_LEAK"] = "1"
            os.environ.pop("HOME", None)
            os.environ["PATH"] = "/nowhere"
            state.restore()
            assert (os.getcwd(), dict(os.environ)) == (here, environ), watch
            gone = tempfile.mkdtemp()
            os.chdir(gone)
            shutil.rmtree(gone)  # the call's directory is removed under it
            state.restore()
            assert os.getcwd() == here
        print("ok")
        """
    )
    assert out == "ok\n"


def test_a_watching_state_costs_nothing_until_something_changes():
    out = _run(
        """
        import os, pickle, timeit
        from byop.scheduling._leftovers import ProcessState

        state = ProcessState(watch=True)
        n = 20000
        per_call = timeit.timeit(state.restore, number=n) / n
        assert per_call < 1e-6, per_call  # no system call when nothing was changed
        assert pickle.loads(pickle.dumps(os.chdir)) is os.chdir  # still pickles by name
        print("ok")
        """
    )
    assert out == "ok\n"


def test_the_children_a_thread_started_are_ended():
    before = thread_children()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    assert child.pid in pids(thread_children())
    end_new_children(before)
    assert child.pid not in pids(thread_children())
    assert not psutil.pid_exists(child.pid)  # killed and reaped: not even a zombie is left
