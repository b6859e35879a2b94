"""Callbacks' overhead: `optimize` with and without callbacks, same run, same trivial trials.

A run of ``--trials`` trivial trials on the sequential back end (where byop's own loop is all
there is to measure) with no callback, against the same run with three callbacks that do
nothing (a function, and a `Callback` with both methods) and a `NoImprovement` criterion that
is never met. They alternate ``--repeat`` times; printed is the median time per trial of each
and their ratio. Target: the callbacks add under 5% to byop's own per-trial time; what a
callback costs itself (an HTTP call to a tracker) is the callback's. On a busy machine the
ratio of whole runs is noisy, so the dispatch itself (the same callbacks and criterion, fed
one report) is also timed, as a share of the per-trial time without callbacks.

    python benchmarks/callbacks_overhead.py [--trials 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from byop.run import Callback, optimize
from byop.scheduling import NoImprovement


def objective(trial: Any) -> Any:
    return trial.success(cost=trial.config["x"] ** 2)


class Nothing(Callback):
    def on_report(self, report: Any) -> None:
        pass

    def on_end(self, end: Any) -> None:
        pass


def nothing(report: Any) -> None:
    pass


def one(trials: int, hooked: bool) -> float:
    extra: dict[str, Any] = {}
    if hooked:
        extra = {
            "callbacks": [nothing, Nothing(), Nothing()],
            "stop_when": NoImprovement(trials * 10),
        }
    start = time.perf_counter()
    optimize(
        objective,
        {"x": (-5.0, 5.0)},
        seed=0,
        backend="sequential",
        max_trials=trials,
        progress="off",
        **extra,
    )
    return (time.perf_counter() - start) / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    one(200, False), one(200, True)  # warm-up
    plain, hooked = [], []
    for _ in range(args.repeat):
        plain.append(one(args.trials, False))
        hooked.append(one(args.trials, True))
    p, h = statistics.median(plain), statistics.median(hooked)
    print(f"per trial: no callbacks {p * 1e6:.0f} us, 3 callbacks + a criterion {h * 1e6:.0f} us")
    print(f"ratio with/without: {h / p:.3f} (target < 1.05)")
    d = dispatch()
    print(f"dispatch alone: {d * 1e6:.2f} us a report = {d / p:.2%} of a trial without callbacks")


def dispatch(n: int = 20_000) -> float:
    """Seconds to hand one report to the callbacks and the criterion, as the loop does."""
    from byop.optimization import Trial
    from byop.run._callbacks import Callbacks

    callbacks = Callbacks([nothing, Nothing(), Nothing()])
    criterion = NoImprovement(n * 10)
    report = Trial("t", {"x": 1.0}).success(cost=1.0)
    best = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            callbacks.report(report)
            criterion.update(report)
            criterion.met()
        best.append((time.perf_counter() - start) / n)
    return min(best)


if __name__ == "__main__":
    main()
