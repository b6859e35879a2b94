"""A stored run for the resume test: ``python resumable_run.py STORE MAX_TRIALS``.

Prints progress lines on standard error (the test reads them to know how far the run is).
"""

from __future__ import annotations

import sys
import time

from byop.pipeline import searchable
from byop.run import optimize


def objective(trial):
    time.sleep(0.015)  # the trial's work
    x, y = trial.config["x"], trial.config["y"]
    return trial.success(cost=(x - 1.0) ** 2 + (y - 500) ** 2 / 1e4)


if __name__ == "__main__":
    store, max_trials = sys.argv[1], int(sys.argv[2])
    space = searchable("s", space={"x": (-5.0, 5.0), "y": (0, 1000)}).space()
    history = optimize(
        objective,
        space,
        seed=7,
        n_workers=2,
        max_trials=max_trials,
        store=store,
        progress="lines",
    )
    print(f"finished {len(history)}")
