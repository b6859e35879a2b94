"""RandomSearch asks stay flat: 100,000 asks without duplicates on a 5-dimensional mixed space.

Prints asks/s for the first and the last 10,000 asks; the ratio last/first must stay <= 1.5
(the duplicate check is a set lookup, not a scan of what was asked before).

    python benchmarks/random_search_asks.py [--asks 100000] [--window 10000]
"""

from __future__ import annotations

import argparse
import time

from byop.optimization import RandomSearch
from byop.pipeline import Float, Integer, Space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=10_000)
    args = parser.parse_args()
    space = Space.from_dict(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "dropout": (0.0, 0.9),
            "layers": (1, 64),
            "units": Integer(8, 4096, log=True),
            "activation": ["relu", "tanh", "gelu", "selu"],
        }
    )
    rs = RandomSearch(space=space, seed=0)
    rs.ask()  # first sample imports numpy and starts the stream
    times = []
    for _ in range(args.asks):
        t = time.perf_counter()
        rs.ask()
        times.append(time.perf_counter() - t)
    w = args.window
    first = w / sum(times[:w])
    last = w / sum(times[-w:])
    print(f"{args.asks} asks, no duplicates, 5-dimensional mixed space")
    print(f"first {w}: {first:,.0f} asks/s   last {w}: {last:,.0f} asks/s")
    print(f"per-ask cost ratio last/first: {first / last:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
