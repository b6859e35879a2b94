"""Run by scripts/check-wheels inside a virtual environment made from byop's wheels.

Checks that every byop distribution was installed from the wheels (not editable, not from a
registry) and that the extra pulled exactly its siblings; runs the optimization guide's
sequential blocks, the pipelines guide's blocks (those needing scikit-learn where it is
installed) and the integration pages of what is installed; creates each installed
optimizer by name and runs a few trials; checks that a missing integration says what to install.
With byop-dashboard installed, runs the demo and serves its run with the command it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

EXPECTED = {
    "smac": {"byop", "byop-core", "byop-configspace", "byop-smac"},
    "optuna": {"byop", "byop-core", "byop-optuna"},
    "configspace": {"byop", "byop-core", "byop-configspace"},
    "dask": {"byop", "byop-core", "byop-dask"},
    "ray": {"byop", "byop-core", "byop-ray"},
    "sklearn": {"byop", "byop-core", "byop-sklearn"},
    "airflow": {"byop", "byop-core", "byop-airflow"},
    "all": {
        "byop",
        "byop-core",
        "byop-configspace",
        "byop-optuna",
        "byop-smac",
        "byop-dask",
        "byop-ray",
        "byop-sklearn",
        "byop-airflow",
    },
    "testing": {"byop", "byop-core", "byop-testing"},
    "dashboard": {"byop", "byop-core", "byop-dashboard"},
}
BACKENDS = {"byop-dask": "dask", "byop-ray": "ray", "byop-airflow": "airflow"}
CORE_OPTIMIZERS = ("random_search", "successive_halving", "hyperband", "asha")  # byop-core's
MULTI_FIDELITY = ("successive_halving", "hyperband", "asha")  # these need a fidelity

PARALLEL = "Running the Optimizer in a parallel fashion"  # run by the test suite, 5 s a block


def check_distributions(extra: str, wheels: Path) -> None:
    """Exactly the extra's byop distributions are installed, each from its wheel."""
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name == "byop" or name.startswith("byop-"):
            found[name] = dist
    expected = EXPECTED[extra]
    if set(found) != expected:
        raise SystemExit(
            f"byop[{extra}] installed {sorted(found)}, expected exactly {sorted(expected)}"
        )
    for name, dist in found.items():
        raw = dist.read_text("direct_url.json")
        url = json.loads(raw)["url"] if raw else "(a registry)"
        if not url.startswith(f"file://{wheels}/") or not url.endswith(".whl"):
            raise SystemExit(f"{name} was not installed from the wheels: {url}")
        if raw and json.loads(raw).get("dir_info", {}).get("editable"):
            raise SystemExit(f"{name} is an editable install")
    for name in sorted(found):
        print(f"  {name} {found[name].version} from its wheel")


def run_blocks(root: Path) -> int:
    """Run the guide's sequential blocks and the installed integrations' pages."""
    sys.path.insert(0, str(root / "tests" / "support"))
    import docblocks  # the checkout's reader of docs blocks (standard library only)

    sys.path.pop(0)
    pages = [
        root / "docs" / "guides" / "optimization.md",
        root / "docs" / "guides" / "pipelines.md",
    ]
    if importlib.util.find_spec("byop.dashboard") is not None:
        pages.append(root / "docs" / "guides" / "dashboard.md")
    for integration in (
        "configspace",
        "optuna",
        "smac",
        "neps",
        "hebo",
        "dask",
        "ray",
        "sklearn",
        "airflow",
    ):
        page = root / "docs" / "integrations" / f"{integration}.md"
        if page.exists() and importlib.util.find_spec(f"byop.{integration}") is not None:
            pages.append(page)
    ran = 0
    for page in pages:
        for block in docblocks.blocks(page):
            if not block.run or block.section == PARALLEL or block.services:
                continue  # (blocks that need a running service run in the test suite)
            if any(importlib.util.find_spec(m) is None for m in block.requires):
                continue
            t0 = time.perf_counter()
            namespace: dict[str, Any] = {"__name__": "__main__"}
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(block.code, f"<{block.id}>", "exec"), namespace)
            print(f"  ran {block.id} ({time.perf_counter() - t0:.1f}s)")
            ran += 1
    return ran


def smoke_optimizers(extra: str) -> None:
    """Each installed optimizer runs by name; a missing one names its extra."""
    from byop.optimization import (
        Fidelity,
        UnknownOptimizerError,
        available_optimizers,
        create_optimizer,
    )
    from byop.pipeline import searchable

    space = searchable("s", space={"x": (-10.0, 10.0), "kind": ["a", "b"]}).space()
    wanted = set(CORE_OPTIMIZERS)
    if "byop-smac" in EXPECTED[extra]:
        wanted.add("smac")
    if "byop-optuna" in EXPECTED[extra]:
        wanted.add("optuna")
    have = set(available_optimizers())
    if have != wanted:
        raise SystemExit(f"byop[{extra}] registers optimizers {sorted(have)}, not {sorted(wanted)}")
    for name in sorted(wanted):
        t0 = time.perf_counter()
        kwargs = {"fidelities": [Fidelity("epochs", 1, 9)]} if name in MULTI_FIDELITY else {}
        optimizer = create_optimizer(name, space=space, seed=1, **kwargs)
        for _ in range(5):
            trial = optimizer.ask()
            optimizer.tell(trial.success(cost=trial.config["x"] ** 2))
        close = getattr(optimizer, "close", None)
        if close is not None:
            close()
        print(f"  create_optimizer({name!r}) ran 5 trials ({time.perf_counter() - t0:.1f}s)")
    for missing in sorted({"smac", "optuna", "neps", "hebo"} - wanted):
        try:
            create_optimizer(missing, space=space, seed=1)
        except UnknownOptimizerError as e:
            if f"pip install byop[{missing}]" not in str(e):
                raise SystemExit(f"no install hint for {missing!r}: {e}") from e
            print(f"  {missing!r} missing, and the error says: pip install byop[{missing}]")
        else:
            raise SystemExit(f"{missing!r} was created although byop[{missing}] is not installed")


def smoke_backends(extra: str) -> None:
    """Each installed back end is registered by name; a missing one names its extra."""
    from byop.scheduling import Scheduler, UnknownBackendError

    for dist, name in BACKENDS.items():
        if dist in EXPECTED[extra]:
            backend = Scheduler.with_backend(name).backend
            print(f"  Scheduler.with_backend({name!r}) is a {type(backend).__name__}")
            continue
        try:
            Scheduler.with_backend(name)
        except UnknownBackendError as e:
            if f"pip install byop[{name}]" not in str(e):
                raise SystemExit(f"no install hint for the {name!r} back end: {e}") from e
            print(
                f"  the {name!r} back end is missing, and the error says: pip install byop[{name}]"
            )
        else:
            raise SystemExit(f"the {name!r} back end exists although byop[{name}] is not installed")


def check_plugins() -> None:
    """Every installed plugin loads."""
    from byop.plugins import list_plugins

    broken = [p for p in list_plugins() if p.error]
    if broken:
        raise SystemExit(f"plugins failed to load: {[(p.name, p.error) for p in broken]}")
    print(f"  plugins: {', '.join(p.name for p in list_plugins())}")


def serve_the_demo(root: Path) -> None:
    """Run the demo, then serve its run with the command it prints, and read every page."""
    if importlib.util.find_spec("byop.dashboard") is None:
        return
    with tempfile.TemporaryDirectory() as work:
        t0 = time.perf_counter()
        store = Path(work) / "runs" / "demo.jsonl"
        demo = subprocess.run(
            [sys.executable, str(root / "examples" / "demo.py"), str(store)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        printed = demo.stdout.strip().splitlines()[-1].strip()
        command = shlex.split(printed)
        if command[1:3] != ["dashboard", str(store)]:
            raise SystemExit(f"the demo does not end with the dashboard's command: {printed!r}")
        command[0] = str(Path(sys.executable).with_name("byop"))  # this environment's
        print(f"  the demo ran ({time.perf_counter() - t0:.1f}s) and printed: {printed}")
        proc = subprocess.Popen(
            [*command, "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            url = None
            assert proc.stderr is not None
            for line in proc.stderr:
                match = re.search(r"at (http://\S+/)", line)
                if match:
                    url = match.group(1)
                    break
            if url is None:
                raise SystemExit("byop dashboard printed no address")
            with urllib.request.urlopen(url + "api/runs", timeout=60) as response:
                runs = json.load(response)
            if runs[0]["state"] != "finished" or runs[0]["trials"] < 1:
                raise SystemExit(f"the dashboard shows the demo's run as {runs[0]}")
            paths = ["", "runs/0", "static/plotly.min.js", "static/dashboard.js"]
            paths += [f"api/runs/0/plots/{k}" for k in ("history", "parallel", "importance")]
            for path in paths:
                with urllib.request.urlopen(url + path, timeout=120) as response:
                    body = response.read()
                if path.startswith("api/") and "figure" not in json.loads(body):
                    raise SystemExit(f"{path}: {body[:300]!r}")
            proc.send_signal(signal.SIGINT)
            if proc.wait(timeout=30) != 0:
                raise SystemExit("byop dashboard did not stop cleanly on Ctrl-C")
            print(f"  byop dashboard served the demo's run: {runs[0]['trials']} trials, {url}")
        finally:
            proc.kill()
            proc.wait(timeout=30)


def main() -> None:
    """Check one virtual environment."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--wheels", type=Path, required=True)
    parser.add_argument("--extra", required=True, choices=sorted(EXPECTED))
    args = parser.parse_args()
    before = set(Path.cwd().iterdir())
    check_distributions(args.extra, args.wheels.resolve())
    check_plugins()
    ran = run_blocks(args.root.resolve())
    smoke_optimizers(args.extra)
    smoke_backends(args.extra)
    serve_the_demo(args.root.resolve())
    left = set(Path.cwd().iterdir()) - before
    if left:
        raise SystemExit(f"the examples left files in the working directory: {sorted(left)}")
    print(f"  {ran} docs blocks ran")


if __name__ == "__main__":
    main()
