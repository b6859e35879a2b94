"""Limit breaches enforced by byop's process back end reach SMAC as MEMORYOUT and TIMEOUT."""

from __future__ import annotations

import pytest

pytest.importorskip("byop.smac", reason="needs byop[smac]")

from smac.runhistory import StatusType

from byop.optimization import Trial
from byop.pipeline import Categorical, Space
from byop.scheduling import (
    CPUTimeLimitExceeded,
    MemoryLimitExceeded,
    Scheduler,
)
from byop.smac import SMACOptimizer


def objective(trial):
    with trial.begin():
        if trial.config["do"] == "hog_memory":
            hog = bytearray(400 * 2**20)
            hog[::4096] = b"x" * len(hog[::4096])
        elif trial.config["do"] == "spin":
            n = 0
            while True:
                n += 1
        return trial.success(cost=1.0)
    return trial.fail()


# SMAC's intensifier compares the infinite crash costs (inf - inf) and numpy warns.
@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")
def test_memory_and_cpu_time_breaches_are_told_as_memoryout_and_timeout():
    space = Space([Categorical(["hog_memory", "spin", "fine"], name="do")])
    smac = SMACOptimizer.create(space=space, seed=0, facade="random")
    scheduler = Scheduler.with_processes(1)
    task = Trial.Task(objective, memory_limit="100MB", cpu_time_limit=1.0)
    reports = []
    seen: set[str] = set()

    def launch():
        while True:
            trial = smac.ask()
            if trial.config["do"] not in seen:
                break
            smac.tell(trial.success(cost=1.0))  # already covered: told without running
        seen.add(trial.config["do"])
        task(trial)

    scheduler.on_start(launch)

    @task.on_report
    def tell(report):
        smac.tell(report)
        reports.append(report)
        if len(seen) < 3:
            launch()

    scheduler.run(timeout=60)
    by_kind = {r.trial.config["do"]: r for r in reports}
    assert isinstance(by_kind["hog_memory"].exception, MemoryLimitExceeded)
    assert isinstance(by_kind["spin"].exception, CPUTimeLimitExceeded)
    assert by_kind["fine"].status.value == "success"
    status = {}
    for key, value in smac.facade.runhistory.items():
        config = smac.facade.runhistory.ids_config[key.config_id]
        status.setdefault(config["do"], set()).add(value.status)
    assert StatusType.MEMORYOUT in status["hog_memory"]
    assert StatusType.TIMEOUT in status["spin"]
    assert StatusType.SUCCESS in status["fine"]
    smac.close()
