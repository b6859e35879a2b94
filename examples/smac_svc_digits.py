"""Tune a support vector classifier on scikit-learn's digits with SMAC, on 2 worker processes.

Each trial cross-validates one configuration in a worker process, under a memory limit and a
wall-time limit; a trial that breaks one is told to SMAC as MEMORYOUT or TIMEOUT. The main
process owns the optimizer: it asks SMAC for trials, tells it every report, and keeps the best.

Run: python examples/smac_svc_digits.py [--trials 40] [--seed 0]
Needs: pip install byop[smac] scikit-learn
"""

from __future__ import annotations

import argparse
import time

from byop.optimization import Metric, Trial, create_optimizer
from byop.pipeline import Categorical, Condition, Float, Integer, Space
from byop.scheduling import Scheduler

SPACE = Space(
    [
        Float(1e-2, 1e3, log=True, default=1.0, name="C"),
        Float(1e-5, 1e-1, log=True, default=1e-3, name="gamma"),
        Categorical(["rbf", "poly"], name="kernel"),
        Integer(2, 5, default=3, name="degree"),
    ],
    conditions=[Condition("degree", "kernel", ("poly",))],
)


def evaluate(trial: Trial) -> Trial.Report:
    """Cross-validated accuracy of an SVC with the trial's configuration (runs in a worker)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    features, labels = load_digits(return_X_y=True)
    with trial.begin():
        model = SVC(**trial.config, random_state=trial.seed)
        scores = cross_val_score(model, features, labels, cv=3)
        return trial.success(accuracy=float(scores.mean()))
    return trial.fail()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    smac = create_optimizer(
        "smac",
        space=SPACE,
        seed=args.seed,
        n_trials=args.trials,
        metrics=Metric("accuracy", minimize=False),
    )
    scheduler = Scheduler.with_processes(2)
    task = Trial.Task(evaluate, memory_limit="1GB", wall_time_limit=30)

    asked = 0
    best: Trial.Report | None = None
    statuses: dict[str, int] = {}

    @scheduler.on_start(repeat=2)
    def launch() -> None:
        nonlocal asked
        if asked < args.trials:
            asked += 1
            task(smac.ask())

    @task.on_report
    def tell(report: Trial.Report) -> None:
        smac.tell(report)
        statuses[report.status.value] = statuses.get(report.status.value, 0) + 1
        launch()

    @task.on_success
    def keep_best(report: Trial.SuccessReport) -> None:
        nonlocal best
        if best is None or report["accuracy"] > best["accuracy"]:
            best = report

    start = time.perf_counter()
    status = scheduler.run(timeout=100)
    smac.close()

    print(f"{sum(statuses.values())} trials in {time.perf_counter() - start:.1f}s ({status})")
    print(f"statuses: {statuses}")
    if best is None:
        raise SystemExit("no trial succeeded")
    print(f"best configuration: {dict(best.trial.config)}")
    print(f"best accuracy: {best['accuracy']:.4f}")


if __name__ == "__main__":
    main()
