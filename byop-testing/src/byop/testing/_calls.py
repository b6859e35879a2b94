"""The functions the back-end conformance suite runs: importable, so any worker can run them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

from byop.optimization import Report, Trial

MB = 1000**2


def square(x: int) -> int:
    """``x * x``."""
    return x * x


def raise_value_error(x: int) -> int:
    """Raise ``ValueError("bad <x>")``."""
    raise ValueError(f"bad {x}")


def sleep_for(seconds: float) -> float:
    """Sleep, then return the seconds slept."""
    time.sleep(seconds)
    return seconds


def trial_of_kind(trial: Trial[Any]) -> Report[Any] | None:
    """A trial that ends as its config's ``kind`` says: success, fail, crash or silent."""
    kind = trial.config["kind"]
    if kind == "crash":
        raise RuntimeError("crashed outside begin()")
    with trial.begin():
        if kind == "fail":
            raise ValueError("the objective failed")
        if kind == "success":
            return trial.success(cost=float(trial.config.get("x", 0.0)))
    if kind == "fail":
        return trial.fail()
    return None


def faulty_trial(trial: Trial[Any]) -> Report[Any]:
    """A trial that misbehaves as its config's ``fault`` says, or succeeds after a short sleep.

    Faults: ``exit`` (the process ends), ``memory`` (allocates twice ``limit`` bytes),
    ``cpu`` (spins), ``wall`` (sleeps), ``child`` (starts a process that would run for
    minutes, and reports ``host`` and ``pid`` of it).
    """
    fault = trial.config.get("fault")
    if fault == "exit":
        os._exit(3)
    with trial.begin():
        if fault == "memory":
            # In steps, each written to, so that a watchdog that polls sees it grow too.
            held = []
            step = 10 * MB
            for _ in range(2 * int(trial.config["limit"]) // step):
                held.append(b"x" * step)
            time.sleep(2.0)  # a limit that was not enforced on the way up is enforced now
        elif fault == "cpu":
            end = time.process_time() + float(trial.config.get("seconds", 60.0))
            n = 0
            while time.process_time() < end:
                n += 1
        elif fault == "wall":
            # Short sleeps: a thread back end can interrupt Python code only between them.
            end = time.monotonic() + float(trial.config.get("seconds", 60.0))
            while time.monotonic() < end:
                time.sleep(0.05)
        elif fault == "child":
            proc = subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(300)"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            return trial.success(cost=0.0, host=socket.gethostname(), pid=proc.pid)
        else:
            time.sleep(float(trial.config.get("sleep", 0.05)))
        return trial.success(cost=0.0)
    return trial.fail()
