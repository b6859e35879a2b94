"""How long ``import byop.optimization`` takes, against references measured in the same run.

Each import runs in a fresh interpreter with ``python -X importtime``; the best of
``--repeat`` runs is kept (the machine is shared and noisy). References: ``attrs`` (the one
library byop's value objects need), and ``optuna`` and ``amltk`` when installed.

    python benchmarks/import_time.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys


def import_seconds(module: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        for line in err.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 3 and parts[2] == module:
                best = min(best, int(parts[1]) / 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    ours = import_seconds("byop.optimization", args.repeat)
    print(f"import byop.optimization: {ours * 1000:7.1f} ms (target <= 100 ms)")
    for ref in ("attrs", "optuna", "amltk"):
        if importlib.util.find_spec(ref) is None:
            print(f"import {ref}: not installed")
            continue
        t = import_seconds(ref, args.repeat)
        print(f"import {ref + ':':<18}{t * 1000:7.1f} ms   byop / {ref} = {ours / t:.2f}")


if __name__ == "__main__":
    main()
