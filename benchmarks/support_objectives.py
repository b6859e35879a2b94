"""Objectives the benchmarks send to worker processes (importable by name)."""

from __future__ import annotations

import os
import signal
from typing import Any

from byop.optimization import Trial


def poly(trial: Trial[Any]) -> Any:
    x = trial.config["x"]
    with trial.begin():
        y = (x**2 + 4 * x + 3) / x
        return trial.success(cost=y)

    trial.fail()


def sometimes_dies(trial: Trial[Any]) -> Any:
    """Dies in the way ``trial.config["fault"]`` names, or returns the polynomial."""
    fault = trial.config.get("fault")
    if fault == "exit":
        os._exit(3)
    if fault == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "segfault":
        import ctypes

        ctypes.string_at(0)
    if fault == "raise":
        raise RuntimeError("objective crashed")
    x = trial.config["x"]
    with trial.begin():
        return trial.success(cost=(x**2 + 4 * x + 3) / x)
    return trial.fail()
