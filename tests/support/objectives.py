"""Module-level functions for tests: importable, so worker processes can run them."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from typing import Any

from support.announce import announce

from byop.optimization import Trial


def square(x: int) -> int:
    return x * x


def fail_with_value_error(x: int) -> int:
    raise ValueError(f"bad {x}")


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def poly(trial: Trial[Any]) -> Any:
    x = trial.config["x"]
    with trial.begin():
        y = (x**2 + 4 * x + 3) / x
        return trial.success(cost=y)

    trial.fail()


def sleepy_trial(trial: Trial[Any]) -> Any:
    with trial.begin():
        time.sleep(trial.config.get("sleep", 0.0))
        return trial.success(cost=trial.config.get("x", 0.0))
    return trial.fail()


def failing_trial(trial: Trial[Any]) -> Any:
    with trial.begin():
        raise ValueError("objective failed")
    return trial.fail(cost=float("inf"))


def readme_trial(trial: Trial[Any]) -> Any:
    """The README's shape: returns from inside ``begin()``, and has nothing after the block.

    ``config["do"]`` says what happens inside: ``"raise"``, ``"wall"`` (runs until the
    wall-time limit stops it), ``"memory"`` (allocates past ``config["limit"]`` bytes).
    """
    do = trial.config.get("do")
    with trial.begin():
        if do == "raise":
            raise ValueError("raised inside begin()")
        if do == "wall":
            while True:
                time.sleep(0.01)
        if do == "memory":
            _allocate_twice(trial.config["limit"])
        return trial.success(cost=1.0)


def success_after_exception(trial: Trial[Any]) -> Any:
    with trial.begin():
        raise ValueError("raised inside begin()")
    return trial.success(cost=1.0)


def imports_numpy(trial: Trial[Any]) -> Any:
    with trial.begin():
        import numpy as np

        return trial.success(cost=float(np.zeros(1).sum()))


def changes_where_it_runs(trial: Trial[Any]) -> Any:
    """Reports the working directory and ``BYOP_LEAK`` it found, then changes both."""
    with trial.begin():
        found = {"cwd": os.getcwd(), "leak": os.environ.get("BYOP_LEAK")}
        os.chdir(trial.config["to"])
        os.environ["BYOP_LEAK"] = trial.name
        return trial.success(cost=0.0, **found)


def wrong_return_after_exception(trial: Trial[Any]) -> Any:
    with trial.begin():
        raise ValueError("raised inside begin()")
    return 5


def crashing_trial(trial: Trial[Any]) -> Any:
    raise RuntimeError("crashed outside begin()")


def silent_trial(trial: Trial[Any]) -> Any:
    return None


def large_result(trial: Trial[Any]) -> Any:
    """Succeeds at once with ``config["mb"]`` megabytes of bytes as its result ``data``."""
    with trial.begin():
        return trial.success(cost=0.0, data=bytes(int(trial.config["mb"] * 1_000_000)))
    return trial.fail()


class SlowToSend:
    """A value whose pickling takes ``seconds`` (a transfer slower than a trial's limit).

    It arrives as the string ``"sent"``.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __reduce__(self) -> tuple[Any, ...]:
        time.sleep(self.seconds)  # stands for pickling and sending a very large result
        return (str, ("sent",))


def echo_info(trial: Trial[Any]) -> Any:
    """Succeeds with what the worker saw of the trial: its info, seed and budget."""
    with trial.begin():
        return trial.success(cost=0.0, info=trial.info, seed=trial.seed, budget=trial.budget)
    return trial.fail()


def replace_sigalrm() -> int:
    """Installs a SIGALRM handler of its own (that ignores the signal); returns the pid."""
    signal.signal(signal.SIGALRM, lambda signum, frame: None)
    return os.getpid()


def nested_then_allocate(mb: int) -> int:
    """Runs a call with a small memory limit in a nested scheduler, then allocates ``mb`` MB."""
    from byop.scheduling import Scheduler, Task

    inner = Scheduler.with_sequential()
    task = Task(square, inner, memory_limit="20MB")
    inner.on_start(lambda: task(3))
    inner.run()
    block = bytearray(mb * 1_000_000)  # past the inner call's limit, within the outer one's
    return len(block)


class Unloadable:
    """Pickles fine, but unpickling it raises (``int("cannot be unpickled")``)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (int, ("cannot be unpickled",))


def unloadable_unless(x: int | None) -> Any:
    """An `Unloadable` for ``None``, else ``x * x``."""
    return Unloadable() if x is None else x * x


def slow_to_send_trial(trial: Trial[Any]) -> Any:
    """Succeeds at once with a result that takes ``config["send"]`` seconds to pickle."""
    with trial.begin():
        return trial.success(cost=0.0, data=SlowToSend(trial.config["send"]))
    return trial.fail()


# ------------------------------------------------------------------ faults, by name
def _allocate_twice(limit: int) -> None:
    import numpy as np

    block = np.ones(2 * limit // 8)
    block[::4096] = 2.0  # touch it


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        x += 1


def _sleep_ignoring_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(1000)


def _block_in_c() -> None:
    # Signals blocked and a libc sleep: only a kill from outside ends this.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGPROF, signal.SIGTERM})
    libc = ctypes.CDLL(None)
    while True:
        libc.sleep(1000)


def _segfault() -> None:
    ctypes.string_at(0)


def _sigkill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def where_am_i() -> tuple[int, str, str]:
    """This process's id and name, and its parent's name."""
    import psutil

    me = psutil.Process()
    parent = me.parent()
    return os.getpid(), me.name(), parent.name() if parent is not None else ""


def return_a_lock() -> Any:
    import threading

    return threading.Lock()


def _grandchild(path: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=False
    )
    with open(path, "w") as f:
        f.write(str(proc.pid))


FAULTS = {
    "memory": lambda cfg: _allocate_twice(cfg["limit"]),
    "cpu": lambda cfg: _spin(cfg.get("seconds", 60)),
    "wall": lambda cfg: _sleep_ignoring_sigterm(),
    "block": lambda cfg: _block_in_c(),
    "exit": lambda cfg: os._exit(1),
    "sigkill": lambda cfg: os.kill(os.getpid(), signal.SIGKILL),
    "segfault": lambda cfg: _segfault(),
    "grandchild": lambda cfg: _grandchild(cfg["path"]),
    # The process that started this one (on Dask and Ray, the engine's worker itself), a second
    # into the trial, once: should the engine run the trial again, it then just sleeps.
    "kill-parent-once": lambda cfg: _kill_parent_once(cfg["marker"]),
}


def _kill_parent_once(marker: str) -> None:
    time.sleep(1.0)
    try:
        with open(marker, "x"):
            pass
    except FileExistsError:
        return
    os.kill(os.getppid(), signal.SIGKILL)


def faulty_trial(trial: Trial[Any]) -> Any:
    """Does what ``trial.config["fault"]`` says, or succeeds when it says nothing."""
    fault = trial.config.get("fault")
    if "announce" in trial.config:  # say that it runs, and where (see support.announce)
        announce(trial.config["announce"])
    with trial.begin():
        if fault is not None:
            FAULTS[fault](trial.config)
        time.sleep(trial.config.get("sleep", 0.0))
        return trial.success(cost=1.0)
    return trial.fail()


class SlowToLoad:
    """Takes ``seconds`` to unpickle: stands for a function whose imports are slow."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __reduce__(self) -> tuple[Any, ...]:
        return (_load_slowly, (self.seconds,))


def _load_slowly(seconds: float) -> SlowToLoad:
    time.sleep(seconds)
    return SlowToLoad(seconds)


def slow_to_load_trial(seconds: float) -> Any:
    """A trial objective that takes ``seconds`` to load in a worker and no time to run."""
    slow = SlowToLoad(seconds)

    def objective(trial: Trial[Any]) -> Any:
        return trial.success(cost=slow.seconds)

    return objective


class LoadCounter:
    """A function holding ``nbytes`` of data that notes, in ``log``, each process that loads it.

    Calling it returns the size of its data and the pid it ran in.
    """

    def __init__(self, nbytes: int, log: str) -> None:
        self.data = b"x" * nbytes
        self.log = log

    def __getstate__(self) -> dict:
        return {"data": self.data, "log": self.log}

    def __setstate__(self, state: dict) -> None:
        import os

        self.__dict__.update(state)
        with open(self.log, "a") as f:
            f.write(f"{os.getpid()}\n")

    def __call__(self, i: int) -> tuple[int, int]:
        import os

        return len(self.data), os.getpid()


def learning_curve(trial: Trial[Any]) -> Any:
    """Reports ``cost = x + 1/step`` for steps 1 to ``steps``; stops when told (or raises).

    With ``"raise": True`` it lets `TrialPruned` propagate (``trial.raise_if_pruned()``);
    the answers it got are in its report (``answers``), so tests see them come back.
    """
    x = float(trial.config["x"])
    answers = []
    for step in range(1, int(trial.config.get("steps", 6)) + 1):
        stop = trial.report_progress(step, cost=x + 1 / step)
        answers.append(stop)
        if trial.config.get("raise"):
            trial.raise_if_pruned()
        elif stop:
            return trial.prune()
    return trial.success(cost=x + 1 / step, answers=len(answers))
