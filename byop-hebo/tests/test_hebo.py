"""byop-hebo against the real HEBO: conformance, parity with HEBO's own loop, failures.

HEBO 0.3.6 pins numpy<1.25 (and runs on torch), so the main development environment does not
install it; CI runs these tests in an environment of their own (``.ci/run``: ``.venv-hebo``,
with numpy 1.24.4, where byop's other optimizer packages are tested too).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import numpy as np
import pytest

from byop.optimization import Fidelity, Metric, Report, create_optimizer
from byop.pipeline import Categorical, Float, Integer, InvalidSpaceError, Space
from byop.serialization import dumps, loads
from byop.testing import OptimizerConformance, conditional_space, cost_of, mixed_space

hebo = pytest.importorskip(
    "hebo",
    reason="HEBO (numpy<1.25, torch) is not in this environment; CI runs these tests in .venv-hebo",
)
torch = pytest.importorskip("torch")

from hebo.optimizers.hebo import HEBO  # noqa: E402

from byop.hebo import HEBOOptimizer, HEBOTrialInfo, to_hebo  # noqa: E402

# HEBO's model and evolutionary search take seconds a suggestion: most tests stay within its
# Sobol design (rand_sample), the tests below marked "model" go past it.
DESIGN = {"rand_sample": 20}


class TestHEBOConformance(OptimizerConformance):
    optimizer_name = "hebo"
    supports_conditions = False
    space: ClassVar[Space] = Space(
        [
            *mixed_space().hyperparameters,
            Categorical([True, False], name="flag"),
            Categorical([None, 1, "two"], name="odd"),
            Integer(1, 1024, log=True, name="width"),
        ]
    )

    def create(self, *, space: Any, seed: int, **kwargs: Any) -> Any:
        if len(kwargs.get("metrics", ())) > 1:
            return create_optimizer("hebo", space=space, seed=seed, rand_sample=20, **kwargs)
        return create_optimizer("hebo", space=space, seed=seed, **DESIGN, **kwargs)


def _seed_globals(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


SPACE = Space(
    [Float(-5.0, 5.0, name="x"), Float(1e-3, 1.0, log=True, name="lr"), Integer(1, 8, name="n")]
)


def test_same_trials_as_hebos_own_loop_for_one_seed():
    # A trial past the Sobol design: the GP and the evolutionary search, seeded.
    n, design = 4, 3
    converted = to_hebo(SPACE)
    _seed_globals(4)
    theirs_opt = HEBO(converted.design_space, rand_sample=design, scramble_seed=4)
    theirs = []
    for _ in range(n):
        row = theirs_opt.suggest(n_suggestions=1)
        config = converted.config(row.to_dict("records")[0])
        theirs.append(config)
        theirs_opt.observe(row, np.array([[cost_of(config)]]))
    optimizer = HEBOOptimizer.create(space=SPACE, seed=4, rand_sample=design)
    mine = []
    for _ in range(n):
        trial = optimizer.ask()
        mine.append(dict(trial.config))
        optimizer.tell(trial.success(cost=cost_of(trial.config)))
    assert mine == theirs


def test_the_users_global_generators_are_left_alone():
    _seed_globals(21)
    expected = (random.random(), np.random.random(), torch.rand(1).item())
    _seed_globals(21)
    optimizer = HEBOOptimizer.create(space=SPACE, seed=1, rand_sample=2)
    for _ in range(3):
        trial = optimizer.ask()
        optimizer.tell(trial.success(cost=cost_of(trial.config)))
    assert (random.random(), np.random.random(), torch.rand(1).item()) == expected


def test_batches_are_served_one_trial_at_a_time_without_loss_or_repeats():
    optimizer = HEBOOptimizer.create(space=SPACE, seed=2, batch_size=4, **DESIGN)
    _seed_globals(2)
    reference = HEBO(to_hebo(SPACE).design_space, scramble_seed=2, **DESIGN)
    expected = reference.suggest(n_suggestions=4).to_dict("records")
    trials = [optimizer.ask() for _ in range(4)]
    assert [dict(t.config) for t in trials] == [to_hebo(SPACE).config(r) for r in expected]
    assert len({t.name for t in trials}) == 4
    fifth = optimizer.ask()  # a new batch
    assert dict(fifth.config) not in [dict(t.config) for t in trials]
    for trial in [*trials, fifth]:
        optimizer.tell(trial.success(cost=cost_of(trial.config)))
    assert len(optimizer.hebo.y) == 5


def test_pending_trials_are_not_suggested_again_after_the_design():
    optimizer = HEBOOptimizer.create(space=SPACE, seed=3, rand_sample=2)
    for _ in range(2):
        trial = optimizer.ask()
        optimizer.tell(trial.success(cost=cost_of(trial.config)))
    pending = [optimizer.ask() for _ in range(2)]  # model-based, both pending
    assert dict(pending[0].config) != dict(pending[1].config)


def test_failures_are_told_as_the_worst_and_non_finite_values_too():
    accuracy = Metric("accuracy", minimize=False, bounds=(0.0, 1.0))
    optimizer = HEBOOptimizer.create(space=SPACE, seed=0, metrics=accuracy, **DESIGN)
    trials = [optimizer.ask() for _ in range(4)]
    optimizer.tell(trials[0].success(accuracy=0.8))
    optimizer.tell(trials[1].crashed(MemoryError("memory limit")))
    optimizer.tell(trials[2].success(accuracy=float("nan")))
    optimizer.tell(trials[3].fail(accuracy=0.3))
    assert optimizer.hebo.y.reshape(-1).tolist() == [-0.8, 0.0, 0.0, -0.3]


def test_without_bounds_a_failure_is_the_worst_seen_or_waits_for_one():
    optimizer = HEBOOptimizer.create(space=SPACE, seed=0, **DESIGN)
    trials = [optimizer.ask() for _ in range(4)]
    optimizer.tell(trials[0].crashed(RuntimeError("the worker died")))
    assert len(optimizer.hebo.y) == 0  # nothing to compare with yet
    optimizer.tell(trials[1].success(cost=2.0))
    optimizer.tell(trials[2].success(cost=5.0))
    optimizer.tell(trials[3].fail())
    assert optimizer.hebo.y.reshape(-1).tolist() == [2.0, 2.0, 5.0, 5.0]


def test_several_metrics_are_generalbo_objectives():
    metrics = [Metric("loss"), Metric("size", minimize=False)]
    optimizer = HEBOOptimizer.create(space=SPACE, seed=0, metrics=metrics, rand_sample=3)
    assert type(optimizer.hebo).__name__ == "GeneralBO"
    for _ in range(4):
        trial = optimizer.ask()
        optimizer.tell(trial.success(loss=cost_of(trial.config), size=trial.config["n"]))
    assert optimizer.hebo.y.shape == (4, 2)
    assert optimizer.hebo.y[0, 1] < 0  # maximised: negated


def test_conditions_are_refused_clearly_and_fidelities_are_at_their_maximum():
    with pytest.raises(InvalidSpaceError, match="no conditions"):
        create_optimizer("hebo", space=conditional_space(), seed=0)
    optimizer = create_optimizer(
        "hebo", space=SPACE, seed=0, fidelities=(Fidelity("epochs", 1, 9, integer=True),)
    )
    trial = optimizer.ask()
    assert trial.fidelities == {"epochs": 9.0} and trial.budget == 9.0
    only = create_optimizer("hebo", space={"a": 1, "b": "x"}, seed=0)
    assert only.ask().config == {"a": 1, "b": "x"}
    with pytest.raises(ValueError, match="batch_size"):
        create_optimizer("hebo", space=SPACE, seed=0, batch_size=0)


def test_restore_from_stored_reports_numbers_new_trials_after_them():
    earlier = HEBOOptimizer.create(space=SPACE, seed=9, **DESIGN)
    reports: list[Report[Any]] = []
    for _ in range(4):
        trial = earlier.ask()
        reports.append(trial.success(cost=cost_of(trial.config)))
        earlier.tell(reports[-1])
    reports.append(earlier.ask().crashed(RuntimeError("died")))
    stored = [loads(dumps(r), Report) for r in reports]
    assert isinstance(stored[0].trial.info, HEBOTrialInfo)
    later = HEBOOptimizer.create(space=SPACE, seed=9, **DESIGN)
    later.restore(stored)
    assert len(later.hebo.y) == 5
    assert later.ask().name == "hebo-6"
    with pytest.raises(ValueError, match="Cannot restore"):
        later.restore(
            [create_optimizer("random_search", space={"y": (0, 1)}, seed=0).ask().success(cost=1.0)]
        )


# ---------------------------------------------------------------- docstring examples
def _examples() -> list[Any]:
    import importlib
    import inspect
    import re
    import textwrap

    module = importlib.import_module("byop.hebo")
    objects: list[Any] = [module]
    for name in module.__all__:
        obj = getattr(module, name)
        objects.append(obj)
        if inspect.isclass(obj):
            objects += [m for _, m in inspect.getmembers(obj) if inspect.isfunction(m)]
    codes = []
    for obj in objects:
        for match in re.finditer(r"```python\n(.*?)```", inspect.getdoc(obj) or "", re.DOTALL):
            codes.append(textwrap.dedent(match.group(1)))
    return sorted(set(codes))


def test_every_public_docstring_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    examples = _examples()
    assert len(examples) >= 2
    for code in examples:
        exec(compile(code, "<docstring>", "exec"), {"__name__": "__main__"})


def test_a_pruned_trial_is_told_as_the_worst():
    accuracy = Metric("accuracy", minimize=False, bounds=(0.0, 1.0))
    optimizer = HEBOOptimizer.create(space=SPACE, seed=0, metrics=accuracy, **DESIGN)
    first, second = optimizer.ask(), optimizer.ask()
    optimizer.tell(first.success(accuracy=0.8))
    second.report_progress(3, accuracy=0.5)
    optimizer.tell(second.prune())
    assert optimizer.hebo.y.reshape(-1).tolist() == [-0.8, 0.0]
