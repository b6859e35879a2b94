"""byop-neps against the real NePS: conformance, parity with NePS's own loop, fidelities.

NePS runs on torch, which the main development environment does not install (a CUDA build is
several GB); CI runs these tests in an environment of their own (``.ci/run``: ``.venv-neps``).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import numpy as np
import pytest

from byop.optimization import (
    Fidelity,
    Metric,
    Report,
    UnknownTrialError,
    create_optimizer,
)
from byop.pipeline import Categorical, Float, Integer, InvalidSpaceError, Space
from byop.serialization import dumps, loads
from byop.testing import OptimizerConformance, cost_of, mixed_space

neps = pytest.importorskip(
    "neps",
    reason="NePS (and torch) are not in this environment; CI runs these tests in .venv-neps",
)
torch = pytest.importorskip("torch")

from byop.neps import NePSOptimizer, NePSTrialInfo, to_neps  # noqa: E402

# Light settings for NePS's Bayesian optimization: its acquisition search is what takes time.
LIGHT_BO: dict[str, Any] = {
    "initial_design_size": 3,
    "num_restarts": 2,
    "n_initial_start_points": 32,
}
EPOCHS = Fidelity("epochs", 1, 9, integer=True)


class TestBayesianOptimizationConformance(OptimizerConformance):
    optimizer_name = "neps"
    n_trials = 4
    supports_conditions = False
    # NePS's BO cannot ask with trials pending when a space mixes categorical and numerical
    # hyperparameters (test_a_pending_trial_with_categoricals_says_what_to_do).
    space: ClassVar[Space] = Space(
        [h for h in mixed_space().hyperparameters if not isinstance(h, Categorical)]
    )

    def create(self, *, space: Any, seed: int, **kwargs: Any) -> Any:
        return create_optimizer(
            "neps", space=space, seed=seed, algorithm="bayesian_optimization", **LIGHT_BO, **kwargs
        )


class TestHyperbandConformance(OptimizerConformance):
    optimizer_name = "neps"
    supports_conditions = False
    supports_multi_objective = False  # hyperband ranks by one objective (mo_hyperband: several)
    declares_fidelities = True

    def create(self, *, space: Any, seed: int, **kwargs: Any) -> Any:
        return create_optimizer(
            "neps", space=space, seed=seed, algorithm="hyperband", fidelities=EPOCHS, **kwargs
        )


class TestRandomSearchConformance(OptimizerConformance):
    optimizer_name = "neps"
    supports_conditions = False
    checks_results = True
    space: ClassVar[Space] = Space(
        [
            *mixed_space().hyperparameters,
            Categorical([None, True, 2.5], name="odd"),
            Integer(1, 1024, log=True, name="width"),
        ]
    )

    def create(self, *, space: Any, seed: int, **kwargs: Any) -> Any:
        return create_optimizer("neps", space=space, seed=seed, algorithm="random_search", **kwargs)


# ---------------------------------------------------------------- parity with NePS's own loop
def _seed_globals(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _library_loop(algorithm: str, space: Space, n: int, seed: int, **options: Any) -> list[Any]:
    """NePS's own ask-and-tell loop, seeded the only way NePS can be: the global generators."""
    converted = to_neps(space, fidelities=options.pop("fidelities", ()))
    _seed_globals(seed)
    loop = neps.AskAndTell(getattr(neps.algorithms, algorithm)(converted.search_space, **options))
    out = []
    for _ in range(n):
        trial = loop.ask()
        config = converted.config(trial.config)
        out.append((trial.metadata.id, config, trial.config.get("epochs")))
        loop.tell(trial, cost_of(config))
    return out


def _byop_loop(algorithm: str, space: Space, n: int, seed: int, **options: Any) -> list[Any]:
    optimizer = create_optimizer("neps", space=space, seed=seed, algorithm=algorithm, **options)
    out = []
    for _ in range(n):
        trial = optimizer.ask()
        out.append((trial.info.id, dict(trial.config), trial.budget))
        optimizer.tell(trial.success(cost=cost_of(trial.config)))
    return out


@pytest.mark.parametrize(
    ("algorithm", "options"),
    [
        ("bayesian_optimization", LIGHT_BO),
        ("random_search", {}),
        ("asha", {"fidelities": (EPOCHS,)}),
        ("priorband", {"fidelities": (EPOCHS,)}),
    ],
)
def test_same_trials_as_nepss_own_loop_for_one_seed(algorithm: str, options: dict[str, Any]):
    space = Space([Float(-5.0, 5.0, name="x"), Integer(1, 16, name="n")])
    mine = _byop_loop(algorithm, space, 6, 3, **options)
    theirs = _library_loop(algorithm, space, 6, 3, **dict(options))
    assert mine == theirs


def test_the_users_global_generators_are_left_alone():
    _seed_globals(21)
    expected = (random.random(), np.random.random(), torch.rand(1).item())
    _seed_globals(21)
    optimizer = NePSOptimizer.create(space=mixed_space(), seed=1, algorithm="random_search")
    for _ in range(3):
        trial = optimizer.ask()
        optimizer.tell(trial.success(cost=1.0))
    assert (random.random(), np.random.random(), torch.rand(1).item()) == expected


@pytest.mark.parametrize(
    "options",
    [{}, {"priors": True, "use_priors": True}, {"fidelities": EPOCHS}],
    ids=["uniform", "priors", "fidelity"],
)
def test_random_search_draws_from_torch_only(options: dict[str, Any]):
    # byop swaps only torch's generator around random search (a swap of numpy's costs as much
    # as the whole ask): this fails if a NePS release makes it draw from another one.
    space = Space(
        [
            Float(-5.0, 5.0, default=1.0, name="x"),
            Integer(1, 16, default=4, name="n"),
            Categorical(["a", "b"], default="b", name="kind"),
        ]
    )
    optimizer = NePSOptimizer.create(space=space, seed=2, algorithm="random_search", **options)
    assert optimizer.random_state.generators == ("torch",)
    _seed_globals(4)
    python, numpy = random.getstate(), np.random.get_state(legacy=False)
    for _ in range(10):
        trial = optimizer.ask()
        optimizer.tell(trial.success(cost=cost_of(trial.config)))
    assert random.getstate() == python
    after = np.random.get_state(legacy=False)
    assert after["state"]["pos"] == numpy["state"]["pos"]
    assert (after["state"]["key"] == numpy["state"]["key"]).all()
    assert after["has_gauss"] == numpy["has_gauss"]

    # A function of one's own named random_search gets every generator isolated.
    def random_search(space: Any, **kw: Any) -> Any:
        return neps.algorithms.random_search(space, **kw)

    other = NePSOptimizer.create(space=mixed_space(), seed=2, algorithm=random_search)
    assert other.random_state.generators == ("python", "numpy", "torch")


# ---------------------------------------------------------------- fidelities
@pytest.mark.parametrize("algorithm", ["successive_halving", "hyperband", "asha", "priorband"])
def test_multi_fidelity_algorithms_ask_at_fidelities(algorithm: str):
    optimizer = create_optimizer(
        "neps", space=mixed_space(), seed=0, algorithm=algorithm, fidelities=(EPOCHS,)
    )
    budgets = []
    for _ in range(20):
        trial = optimizer.ask()
        assert set(trial.fidelities) == {"epochs"}
        assert trial.budget == trial.fidelities["epochs"]
        assert isinstance(trial.budget, int)
        assert "epochs" not in trial.config
        budgets.append(trial.budget)
        optimizer.tell(trial.success(cost=cost_of(trial.config) / trial.budget))
    assert min(budgets) == 1
    assert max(budgets) > 1, f"{algorithm} promoted nothing in 20 trials: {budgets}"


def test_a_promoted_trial_continues_the_same_configuration():
    optimizer = create_optimizer(
        "neps", space=mixed_space(), seed=0, algorithm="asha", fidelities=(EPOCHS,)
    )
    seen: dict[str, dict[str, Any]] = {}
    promoted = 0
    for _ in range(12):
        trial = optimizer.ask()
        seen[trial.info.id] = dict(trial.config)
        if trial.info.previous_id is not None:
            assert seen[trial.info.previous_id] == dict(trial.config)
            promoted += 1
        optimizer.tell(trial.success(cost=cost_of(trial.config)))
    assert promoted


def test_a_float_fidelity_and_a_single_fidelity_optimizer():
    fraction = Fidelity("fraction", 0.1, 1.0)
    mf = create_optimizer(
        "neps", space=mixed_space(), seed=0, algorithm="hyperband", fidelities=fraction
    )
    assert isinstance(mf.ask().budget, float)
    # An algorithm without multi-fidelity evaluates every trial at the full fidelity.
    bo = create_optimizer(
        "neps", space=mixed_space(), seed=0, algorithm="random_search", fidelities=fraction
    )
    assert {bo.ask().budget for _ in range(3)} == {1.0}


def test_fidelity_errors_say_what_to_do():
    space = mixed_space()
    with pytest.raises(ValueError, match="declare the fidelity"):
        create_optimizer("neps", space=space, seed=0, algorithm="hyperband")
    with pytest.raises(InvalidSpaceError, match="one fidelity"):
        create_optimizer(
            "neps",
            space=space,
            seed=0,
            algorithm="hyperband",
            fidelities=[EPOCHS, Fidelity("data", 0.1, 1.0)],
        )
    with pytest.raises(InvalidSpaceError, match="name of a hyperparameter"):
        create_optimizer(
            "neps", space=space, seed=0, algorithm="hyperband", fidelities=Fidelity("x", 1, 9)
        )


# ---------------------------------------------------------------- errors, failures, priors
def test_conditions_ifbo_and_unknown_algorithms_are_refused_clearly():
    from byop.testing import conditional_space

    with pytest.raises(InvalidSpaceError, match="no conditions"):
        create_optimizer("neps", space=conditional_space(), seed=0)
    with pytest.raises(ValueError, match="downloads"):
        create_optimizer("neps", space=mixed_space(), seed=0, algorithm="ifbo")
    with pytest.raises(ValueError, match="no algorithm 'bayes'"):
        create_optimizer("neps", space=mixed_space(), seed=0, algorithm="bayes")


def test_failures_and_crashes_are_nepss_failed_evaluations():
    optimizer = NePSOptimizer.create(space=mixed_space(), seed=0, algorithm="random_search")
    trials = [optimizer.ask() for _ in range(4)]
    with trials[0].begin():
        _ = 1 / 0
    optimizer.tell(trials[0].fail())
    optimizer.tell(trials[1].fail(cost=3.0))
    optimizer.tell(trials[2].crashed(MemoryError("memory limit")))
    optimizer.tell(trials[3].success(cost=1.5))
    reports = [optimizer.ask_and_tell.trials[t.info.id].report for t in trials]
    assert isinstance(reports[0].err, ZeroDivisionError)
    assert reports[0].objective_to_minimize is None
    assert reports[1].objective_to_minimize == 3.0  # a failure that reported its metric
    assert reports[1].err is not None
    assert isinstance(reports[2].err, MemoryError)
    assert reports[3].objective_to_minimize == 1.5
    assert reports[3].err is None
    with pytest.raises(UnknownTrialError):
        optimizer.tell(trials[3].report)


def test_maximised_metrics_and_the_cost_result():
    optimizer = NePSOptimizer.create(
        space=mixed_space(),
        seed=0,
        algorithm="random_search",
        metrics=[Metric("accuracy", minimize=False), "size"],
        cost="seconds",
    )
    trial = optimizer.ask()
    with pytest.raises(KeyError, match="seconds"):
        optimizer.tell(trial.success(accuracy=0.9, size=3.0))
    trial = optimizer.ask()
    optimizer.tell(trial.success(accuracy=0.9, size=3.0, seconds=12.0))
    report = optimizer.ask_and_tell.trials[trial.info.id].report
    assert report.objective_to_minimize == [-0.9, 3.0]
    assert report.cost == 12.0


def test_defaults_are_priors_for_the_prior_algorithms():
    space = Space([Float(0.0, 10.0, default=2.0, name="x"), Integer(1, 9, default=3, name="n")])
    pb = to_neps(space, priors=True, prior_confidence="high").search_space
    assert pb["x"].prior == 2.0
    assert pb["n"].prior == 3
    assert pb["x"].prior_confidence == "high"
    assert to_neps(space).search_space["x"].prior is None
    # PriorBand takes them by default; Bayesian optimization refuses priors, so gets none.
    optimizer = NePSOptimizer.create(
        space=space, seed=0, algorithm="priorband", fidelities=EPOCHS, sample_prior_first=True
    )
    assert optimizer.ask().config == {"x": 2.0, "n": 3}
    NePSOptimizer.create(space=space, seed=0, algorithm="bayesian_optimization")
    auto = NePSOptimizer.create(space=space, seed=0, priors=True)
    assert auto.algorithm == "pibo"


def test_a_pending_trial_with_categoricals_says_what_to_do():
    optimizer = NePSOptimizer.create(
        space=mixed_space(), seed=0, algorithm="bayesian_optimization", **LIGHT_BO
    )
    for _ in range(3):
        trial = optimizer.ask()
        optimizer.tell(trial.success(cost=cost_of(trial.config)))
    optimizer.ask()  # asked with nothing pending: fine
    with pytest.raises(RuntimeError, match="n_workers=1"):
        optimizer.ask()


def test_odd_choices_come_back_as_themselves():
    space = Space([Categorical([None, True, (1, 2)], name="odd"), Categorical(["only"], name="c")])
    optimizer = NePSOptimizer.create(space=space, seed=0, algorithm="random_search")
    seen = set()
    for _ in range(20):
        trial = optimizer.ask()
        seen.add(trial.config["odd"])
        assert trial.config["c"] == "only"
        optimizer.tell(trial.success(cost=0.0))
    assert seen == {None, True, (1, 2)}


# ---------------------------------------------------------------- resuming
def test_restore_keeps_nepss_ids_so_brackets_continue():
    def run(optimizer: NePSOptimizer, n: int) -> list[Report[Any]]:
        out = []
        for _ in range(n):
            trial = optimizer.ask()
            out.append(trial.success(cost=cost_of(trial.config)))
            optimizer.tell(out[-1])
        return out

    def fresh() -> NePSOptimizer:
        return NePSOptimizer.create(
            space=mixed_space(), seed=5, algorithm="asha", fidelities=EPOCHS
        )

    whole = run(fresh(), 9)
    earlier = run(fresh(), 8)
    stored = [loads(dumps(r), Report) for r in earlier]
    assert all(isinstance(r.trial.info, NePSTrialInfo) for r in stored)
    later = fresh()
    later.restore(stored)
    assert set(later.ask_and_tell.trials) == {r.trial.info.id for r in earlier}
    # ASHA continues the brackets where they were: it promotes what one uninterrupted run did.
    promoted = later.ask()
    assert promoted.info.id == whole[8].trial.info.id
    assert promoted.info.previous_id is not None
    assert promoted.config == whole[8].trial.config
    restored = {r.trial.info.id for r in earlier}
    assert all(later.ask().info.id not in restored for _ in range(4))


def test_restore_of_reports_from_another_optimizer():
    reports = []
    other = create_optimizer("random_search", space=mixed_space(), seed=1)
    for _ in range(3):
        trial = other.ask()
        reports.append(trial.success(cost=cost_of(trial.config)))
    optimizer = NePSOptimizer.create(space=mixed_space(), seed=0, algorithm="random_search")
    optimizer.restore(reports)
    assert len(optimizer.ask_and_tell.trials) == 3
    trial = optimizer.ask()
    assert trial.info.id not in {"1", "2", "3"}
    bad = other.ask()
    wrong = bad.success(cost=1.0)
    object.__setattr__(bad, "config", {"x": 99.0})
    with pytest.raises(ValueError, match="Cannot restore"):
        optimizer.restore([wrong])


# ---------------------------------------------------------------- docstring examples
def _examples() -> list[Any]:
    import importlib
    import inspect
    import re
    import textwrap

    module = importlib.import_module("byop.neps")
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


def test_wrong_algorithm_types_and_options_say_what_is_accepted():
    with pytest.raises(TypeError, match="name of a NePS algorithm"):
        create_optimizer("neps", space=mixed_space(), seed=0, algorithm=3)
    with pytest.raises(TypeError, match="does not take the options \\['etaa'\\].*'eta'"):
        create_optimizer(
            "neps", space=mixed_space(), seed=0, algorithm="hyperband", fidelities=EPOCHS, etaa=2
        )
    with pytest.raises(TypeError, match="seed must be an int"):
        create_optimizer("neps", space=mixed_space(), seed="1", algorithm="random_search")
    optimizer = create_optimizer(
        "neps", space=mixed_space(), seed=np.int64(3), algorithm="random_search"
    )
    assert optimizer.random_state.seed == 3


def test_a_pruned_trial_is_a_failed_evaluation():
    optimizer = NePSOptimizer.create(space=mixed_space(), seed=0, algorithm="random_search")
    trial = optimizer.ask()
    trial.report_progress(2, cost=0.7)
    optimizer.tell(trial.prune())
    report = optimizer.ask_and_tell.trials[trial.info.id].report
    assert report.err is not None and "pruned" in str(report.err)
    assert optimizer.ask() is not None  # it goes on
