"""Objectives for the tests of `optimize`: module-level, so worker processes can run them."""

from __future__ import annotations

import time
from typing import Any

from byop.optimization import Trial


def quadratic(trial: Trial[Any]) -> Any:
    """Succeeds with ``cost = (x - 1)^2``."""
    with trial.begin():
        return trial.success(cost=(trial.config["x"] - 1.0) ** 2, x=trial.config["x"])
    return trial.fail()


def mixed(trial: Trial[Any]) -> Any:
    """Fails for x < -3, crashes for x > 3, sleeps past any short wall-time limit in between
    when x > 2.5, and succeeds otherwise."""
    x = trial.config["x"]
    if x > 3:
        raise RuntimeError(f"crashed at {x}")
    with trial.begin():
        if x < -3:
            raise ValueError(f"failed at {x}")
        if x > 2.5:
            time.sleep(30)
        return trial.success(cost=x * x)
    return trial.fail()


def slow(trial: Trial[Any]) -> Any:
    """Succeeds after a short sleep (the trial's work)."""
    time.sleep(0.05)
    return trial.success(cost=trial.config["x"] ** 2)


def interrupted_at_third(trial: Trial[Any]) -> Any:
    """Raises KeyboardInterrupt on the third trial (as Ctrl-C would, in this thread)."""
    if trial.name == "rs-2":
        raise KeyboardInterrupt
    return trial.success(cost=trial.config["x"] ** 2)
