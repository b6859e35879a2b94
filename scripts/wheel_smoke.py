"""Run by scripts/check-wheels inside a virtual environment made from byop's wheels.

Checks that every byop distribution was installed from the wheels (not editable, not from a
registry) and that the extra pulled exactly its siblings; runs the optimization guide's
sequential blocks and the integration pages of what is installed; creates each installed
optimizer by name and runs a few trials; checks that a missing integration says what to install.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

EXPECTED = {
    "smac": {"byop", "byop-core", "byop-configspace", "byop-smac"},
    "optuna": {"byop", "byop-core", "byop-optuna"},
    "configspace": {"byop", "byop-core", "byop-configspace"},
    "dask": {"byop", "byop-core", "byop-dask"},
    "ray": {"byop", "byop-core", "byop-ray"},
    "all": {
        "byop",
        "byop-core",
        "byop-configspace",
        "byop-optuna",
        "byop-smac",
        "byop-dask",
        "byop-ray",
    },
    "testing": {"byop", "byop-core", "byop-testing"},
}
BACKENDS = {"byop-dask": "dask", "byop-ray": "ray"}

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
    pages = [root / "docs" / "guides" / "optimization.md"]
    for integration in ("configspace", "optuna", "smac", "neps", "hebo", "dask", "ray"):
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
        UnknownOptimizerError,
        available_optimizers,
        create_optimizer,
    )
    from byop.pipeline import searchable

    space = searchable("s", space={"x": (-10.0, 10.0), "kind": ["a", "b"]}).space()
    wanted = {"random_search"}
    if "byop-smac" in EXPECTED[extra]:
        wanted.add("smac")
    if "byop-optuna" in EXPECTED[extra]:
        wanted.add("optuna")
    have = set(available_optimizers())
    if have != wanted:
        raise SystemExit(f"byop[{extra}] registers optimizers {sorted(have)}, not {sorted(wanted)}")
    for name in sorted(wanted):
        t0 = time.perf_counter()
        optimizer = create_optimizer(name, space=space, seed=1)
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
    left = set(Path.cwd().iterdir()) - before
    if left:
        raise SystemExit(f"the examples left files in the working directory: {sorted(left)}")
    print(f"  {ran} docs blocks ran")


if __name__ == "__main__":
    main()
