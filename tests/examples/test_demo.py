"""The demo (``make demo``) ends with the one command that opens the dashboard on its run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from support.docblocks import ROOT


def test_the_demo_names_the_dashboard_command(monkeypatch):
    spec = importlib.util.spec_from_file_location("demo", ROOT / "examples" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    monkeypatch.chdir(ROOT)  # where `make demo` runs it
    store = Path("runs") / "demo-20260101-000000.jsonl"
    command = demo.dashboard_command(store)
    assert command.endswith(f" dashboard {store} --open")
    byop = Path(command.split()[0])
    assert byop.name == "byop" and (byop == Path("byop") or (ROOT / byop).is_file())
