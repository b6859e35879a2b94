from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from byop.cli import main


def start(*argv):
    """``byop dashboard ARGV...``, the installed command."""
    byop = shutil.which("byop", path=str(Path(sys.executable).parent))
    command = [byop] if byop else [sys.executable, "-m", "byop.cli"]
    return subprocess.Popen(
        [*command, "dashboard", *argv], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def address(proc):
    """The address the command printed (after any warnings), and what it printed before."""
    before = []
    for line in proc.stderr:
        match = re.search(r"at (http://\S+/)", line)
        if match:
            return match.group(1), before
        before.append(line)
    raise AssertionError(f"no address printed: {before}")


def test_byop_dashboard_serves_until_ctrl_c(api, finished, tmp_path):
    proc = start(str(finished), str(tmp_path / "later.jsonl"), "--port", "0")
    try:
        url, printed = address(proc)
        assert url.startswith("http://127.0.0.1:")
        assert any("later.jsonl does not exist (yet)" in line for line in printed)
        runs = api.get_json(url + "api/runs")
        assert [r["state"] for r in runs] == ["finished", "waiting"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_another_host_is_said_to_expose_the_runs(api, finished):
    proc = start(str(finished), "--host", "0.0.0.0", "--port", "0")
    try:
        url, printed = address(proc)
        assert "anyone who can reach port" in "".join(printed)
        port = int(url.rsplit(":", 1)[1].strip("/"))
        # Exposed on purpose: any Host header is answered (we only connect over loopback).
        status, _, _ = api.fetch(
            f"http://127.0.0.1:{port}/api/runs", headers={"Host": f"myserver:{port}"}
        )
        assert status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_port_in_use_is_a_clear_error(capsys, finished):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(["dashboard", str(finished), "--port", str(port)])
    err = capsys.readouterr().err
    assert status == 1 and f"port {port} on 127.0.0.1 is in use" in err and "--port 0" in err


def test_no_store_is_a_clear_error(capsys, tmp_path):
    status = main(["dashboard", str(tmp_path)])
    assert status == 1 and "at least one run store" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["256.1.1.1", "no-such-host.invalid"])
def test_a_bad_host_is_a_clear_error(capsys, finished, host):
    status = main(["dashboard", str(finished), "--host", host, "--port", "0"])
    assert status == 1 and "cannot listen on" in capsys.readouterr().err
