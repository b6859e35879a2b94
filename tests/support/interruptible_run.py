"""A long run for the Ctrl-C tests: ``python interruptible_run.py STORE PIDS_DIR [slow-end]``.

It prints ``REPORT`` at each report and ``ENDING <status>`` when the run ends, so a test
knows when to press Ctrl-C. With ``slow-end``, the end callback then takes a minute (a
tracker uploading its files), which a second Ctrl-C skips.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from byop.run import Callback, RunEnd, optimize


class Marks(Callback):
    def __init__(self, slow_end: bool) -> None:
        self.slow_end = slow_end

    def on_report(self, report: Any) -> None:
        print("REPORT", report.trial.name, flush=True)

    def on_end(self, end: RunEnd) -> None:
        print("ENDING", end.status, flush=True)
        if self.slow_end:
            threading.Event().wait(60)  # never set: a slow upload


def objective(trial: Any) -> Any:
    (Path(sys.argv[2]) / str(os.getpid())).touch()
    threading.Event().wait(0.05)  # some work
    return trial.success(cost=trial.config["x"] ** 2)


if __name__ == "__main__":
    optimize(
        objective,
        {"x": (-5.0, 5.0)},
        seed=0,
        n_workers=2,
        backend="processes",
        max_trials=100_000,
        store=sys.argv[1],
        progress="lines",
        callbacks=[Marks(slow_end=sys.argv[3:] == ["slow-end"])],
    )
