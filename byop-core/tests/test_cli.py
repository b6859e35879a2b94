from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from byop.cli import main
from byop.history import RunHeader, RunLimits, RunStore, read_store
from byop.optimization import RandomSearch
from byop.pipeline import searchable
from byop.serialization import typed_plain


@pytest.fixture
def store(tmp_path):
    space = searchable("s", space={"x": (-5.0, 5.0), "k": ["a", "b"]}).space()
    rs = RandomSearch(space=space, seed=1)
    path = tmp_path / "run.jsonl"
    header = RunHeader(
        optimizer="random_search", seed=1, space=typed_plain(space), limits=RunLimits(max_trials=12)
    )
    with RunStore.create(path, header, sync=False) as st:
        for i in range(12):
            trial = rs.ask()
            st.started(trial)
            if i == 11:
                break  # in flight
            with trial.begin():
                if i in (3, 7):
                    raise ValueError("nope")
            if trial.exception is not None:
                report = trial.fail()
            elif i == 5:
                report = trial.crashed(MemoryError("oom"))
            else:
                report = trial.success(cost=(trial.config["x"] - 1) ** 2, acc=float(i))
            st.reported(report)
    return path


def run_cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_runs_show_summarises(capsys, store):
    status, out, err = run_cli(capsys, "runs", "show", str(store))
    assert status == 0 and err == ""
    history = read_store(store).history
    best = history.best()
    assert f"run {store}" in out
    assert re.search(r"optimizer +random_search \(seed 1\)", out)
    assert re.search(r"limits +12 trials", out)
    assert "unfinished  1 started, never reported: rs-11 (resuming runs them again)" in out
    assert "did not end normally" in out
    assert "fail          2   ValueError x2" in out
    assert "crashed       1   MemoryError x1" in out
    assert f"best  {best.trial.name}  cost = " in out
    assert "x = " in out and "k = " in out


def test_runs_show_other_metric(capsys, store):
    _, out, _ = run_cli(capsys, "runs", "show", str(store), "--metric", "acc", "--maximize")
    assert "best  rs-10  acc = 10" in out
    _, out, _ = run_cli(capsys, "runs", "show", str(store), "--metric", "acc")
    assert "best  rs-0  acc = 0" in out


def test_runs_export_csv(capsys, store, tmp_path):
    target = tmp_path / "out" / "trials.csv"
    status, _, err = run_cli(capsys, "runs", "export", str(store), "--csv", str(target))
    assert status == 0 and "wrote 11 trials" in err
    with target.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 11
    assert rows[0]["name"] == "rs-0" and rows[0]["status"] == "success"
    assert float(rows[0]["config:x"]) == read_store(store).reports[0].trial.config["x"]
    assert rows[3]["exception"] == "ValueError" and rows[3]["results:cost"] == ""
    status, out, _ = run_cli(capsys, "runs", "export", str(store), "--csv", "-")
    assert status == 0 and out.splitlines()[0].startswith("name,status,seed,budget,config:x")


def test_runs_plot_writes_a_png(capsys, store, tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "trace.png"
    status, _, err = run_cli(capsys, "runs", "plot", str(store), "-o", str(target))
    assert status == 0 and f"wrote {target}" in err
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_runs_plot_without_matplotlib(capsys, store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, _, err = run_cli(capsys, "runs", "plot", str(store), "-o", str(tmp_path / "t.png"))
    assert status == 1 and "pip install byop[plot]" in err


def test_runs_plot_to_a_format_matplotlib_cannot_write_is_one_clear_line(capsys, store, tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "trace.xyz"
    status, _, err = run_cli(capsys, "runs", "plot", str(store), "-o", str(target))
    assert status == 1
    assert err.startswith("byop: error: Cannot save a plot as trace.xyz") and ".png" in err
    assert err.count("\n") == 1 and not target.exists()


def test_export_into_a_pipe_that_closes_early_ends_quietly(tmp_path):
    # `byop runs export run.jsonl --csv - | head -1`: head stops reading after one line.
    space = searchable("s", space={"x": (-5.0, 5.0)}).space()
    rs = RandomSearch(space=space, seed=1)
    path = tmp_path / "big.jsonl"
    with RunStore.create(path, RunHeader(optimizer="random_search"), sync=False) as st:
        for _ in range(1500):  # more CSV than a pipe holds
            st.reported(rs.ask().success(cost=1.0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "byop.cli", "runs", "export", str(path), "--csv", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"name,status")
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No run store at"),
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n", "is not a byop run store"),
    ],
)
def test_not_a_store_is_one_clear_line(capsys, tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    if content is not None:
        path.write_bytes(content)
    for command in ("show", "export", "plot", "repair"):
        extra = {"export": ["--csv", "-"], "plot": ["-o", str(tmp_path / "p.png")]}
        status, _, err = run_cli(capsys, "runs", command, str(path), *extra.get(command, []))
        assert status == 1, command
        assert err.startswith("byop: error: ") and message in err and "Traceback" not in err
        assert err.count("\n") == 1


def test_damaged_store_warns_or_stops_and_repair_fixes_it(capsys, store):
    lines = store.read_bytes().split(b"\n")
    lines[5] = b"{broken"
    store.write_bytes(b"\n".join(lines))
    status, _, err = run_cli(capsys, "runs", "show", str(store))
    assert status == 1 and "line 6" in err and "--recover" in err
    status, out, err = run_cli(capsys, "runs", "show", str(store), "--recover")
    assert status == 0 and "byop: warning:" in err and "line 6: skipped" in err
    status, out, _ = run_cli(capsys, "runs", "repair", str(store))
    assert status == 0 and "repaired" in out and Path(f"{store}.bak").exists()
    status, out, err = run_cli(capsys, "runs", "show", str(store))
    assert status == 0 and err == ""
    status, out, _ = run_cli(capsys, "runs", "repair", str(store))
    assert "has no damage" in out


def test_torn_tail_is_a_warning(capsys, store):
    with store.open("ab") as f:
        f.write(b'{"kind": "rep')
    status, out, err = run_cli(capsys, "runs", "show", str(store))
    assert status == 0 and "dropped a torn last record" in err and "total        11" in out


def test_usage(capsys):
    assert run_cli(capsys, "runs")[0] == 2
    assert run_cli(capsys)[0] == 2
    status, out, _ = run_cli(capsys, "--version")
    assert status == 0 and out.startswith("byop ")
    with pytest.raises(SystemExit) as caught:
        main(["runs", "export", "x.jsonl"])  # --csv is required
    assert caught.value.code == 2


def test_plugins_lists_builtins(capsys):
    status, out, _ = run_cli(capsys, "plugins")
    assert status == 0
    header, core = out.splitlines()[:2]
    assert header.split() == ["PLUGIN", "DISTRIBUTION", "VERSION", "REGISTERS"]
    assert core.split()[:2] == ["byop.optimization", "byop-core"]
    assert "optimizers: random_search, successive_halving, hyperband, asha" in core


def _console_script() -> str:
    found = shutil.which("byop", path=os.path.dirname(sys.executable))
    if found is None:
        pytest.skip("the byop console script is installed by `make dev`")
    return found


def test_console_script_shows_a_broken_plugin_even_when_strict():
    pytest.importorskip("byop_hillclimb")
    env = {k: v for k, v in os.environ.items() if k != "BYOP_BLOCK_PLUGINS"}
    env["BYOP_STRICT_PLUGINS"] = "1"
    proc = subprocess.run(
        [_console_script(), "plugins", "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    broken = next(i for i, line in enumerate(lines) if line.startswith("broken "))
    assert "byop-broken-example" in lines[broken] and "0.0.1" in lines[broken]
    assert lines[broken + 1].startswith("  error: ModuleNotFoundError")
    assert "byop_dependency_that_does_not_exist" in lines[broken + 1]
    assert any(line.startswith("hillclimb ") and "optimizers: hillclimb" in line for line in lines)

    env["BYOP_BLOCK_PLUGINS"] = "broken"
    proc = subprocess.run(
        [_console_script(), "plugins", "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and "blocked by BYOP_BLOCK_PLUGINS" in proc.stdout


def test_dashboard_without_the_package_names_the_extra(capsys, store, monkeypatch):
    monkeypatch.setitem(sys.modules, "byop.dashboard", None)
    status, out, err = run_cli(capsys, "dashboard", str(store))
    assert status == 1 and out == ""
    assert "pip install byop[dashboard]" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--port", "70000"], "--port is a port number"), (["--poll", "0"], "--poll is a positive")],
)
def test_dashboard_checks_its_arguments(capsys, store, argv, message):
    status, _, err = run_cli(capsys, "dashboard", str(store), *argv)
    assert status == 1 and message in err
