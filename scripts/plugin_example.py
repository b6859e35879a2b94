"""Build docs/plugins.md's example plugin and test it from wheels, in a fresh virtual environment.

The page's files become a project, built into a wheel and installed beside byop's own wheels;
its conformance tests and a run with each of its features then run there.

    python scripts/plugin_example.py [--keep DIR]

Needs uv (installed with pip if missing) and the package registry for byop's dependencies.
Exits non-zero, saying which step failed, when anything does. Used by the tests
(tests/plugins/test_plugin_example.py), so CI runs it on a clean clone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.docblocks import DOCS, files  # noqa: E402

SMOKE = textwrap.dedent(
    """
    from byop.optimization import RandomSearch
    from byop.pipeline import Float, Space
    from byop.run import optimize
    from byop_grid.sampler import HaltonSampler


    def objective(trial):
        return trial.success(cost=(trial.config["x"] - 1.0) ** 2)


    if __name__ == "__main__":
        history = optimize(
            objective, {"x": (-5.0, 5.0)}, optimizer="grid", max_trials=20, n_workers=2,
            progress="off",
        )
        assert len(history) == 5, len(history)  # the grid's 5 points, then it is exhausted
        assert history.best()["cost"] == 1.0, history.best()

        history = optimize(
            objective, {"x": (-5.0, 5.0)}, backend="pool", n_workers=2, max_trials=6, seed=0,
            progress="off",
        )
        assert len(history) == 6 and history.counts()["success"] == 6, history.counts()

        rs = RandomSearch(space=Space([Float(0.0, 1.0, name="x")]), seed=3, sampler=HaltonSampler)
        xs = [rs.ask().config["x"] for _ in range(4)]
        assert len(set(xs)) == 4 and all(0.0 <= x <= 1.0 for x in xs), xs
        print("plugin example: optimize with the grid, the pool back end and the sampler ok")
    """
)


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a command; stop with a message naming it when it fails."""
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"plugin example: {' '.join(cmd[:3])}... failed ({proc.returncode})")


def uv() -> list[str]:
    """The command that runs uv (installed with pip when missing)."""
    found = shutil.which("uv")
    if found:
        return [found]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "uv"], check=True)
    return [sys.executable, "-m", "uv"]


def main() -> None:
    """Build and test the example in a temporary directory (or ``--keep DIR``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this directory and leave it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="byop-plugin-example-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        build(work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def build(work: Path) -> None:
    """Write the page's files into ``work``, build the wheels, install and test them."""
    uv_cmd = uv()
    for relative, text in files(DOCS / "plugins.md").items():
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    wheels = work / "wheels"
    for project in (ROOT / "byop-core", ROOT / "byop-testing", work / "byop-grid"):
        run(
            [*uv_cmd, "build", "--quiet", "--wheel", "--out-dir", str(wheels), str(project)],
            cwd=work,
        )
    venv = work / "venv"
    run([*uv_cmd, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=work)
    python = str(venv / "bin" / "python")
    run(
        [*uv_cmd, "pip", "install", "--quiet", "--python", python, *map(str, wheels.glob("*.whl"))],
        cwd=work,
    )
    env = {**os.environ, "BYOP_STRICT_PLUGINS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("BYOP_BLOCK_PLUGINS", None)
    env.pop("PYTHONPATH", None)
    # Outside the checkout: nothing of it can be imported, only what the wheels installed.
    run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "byop-grid/tests"],
        cwd=work,
        env=env,
    )
    (work / "smoke.py").write_text(SMOKE)
    run([python, "smoke.py"], cwd=work, env=env)


if __name__ == "__main__":
    main()
