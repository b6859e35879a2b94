from __future__ import annotations

import subprocess
import sys
from typing import Any, ClassVar

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from byop.optimization import Metric, Trial, UnknownTrialError, create_optimizer
from byop.optuna import OptunaOptimizer, OptunaTrialInfo, to_optuna
from byop.pipeline import (
    Categorical,
    Condition,
    Constant,
    Float,
    Forbidden,
    Integer,
    InvalidSpaceError,
    Space,
    searchable,
)
from byop.testing import (
    ConditionalSpaceConformance,
    OptimizerConformance,
    PrunerConformance,
    cost_of,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


class TestOptunaConformance(OptimizerConformance, ConditionalSpaceConformance):
    optimizer_name = "optuna"


class TestOptunaRandomSamplerConformance(OptimizerConformance, ConditionalSpaceConformance):
    def create(self, *, space, seed, **kwargs):
        return OptunaOptimizer.create(
            space=space, seed=seed, sampler=optuna.samplers.RandomSampler, **kwargs
        )


# ---------------------------------------------------------------------- parser
def test_every_kind_of_hyperparameter_becomes_a_distribution():
    space = Space(
        [
            Float(1e-4, 1.0, log=True, name="lr"),
            Float(-1.0, 1.0, name="shift"),
            Integer(1, 64, log=True, name="width"),
            Categorical(["a", 1, 2.5, None, False], name="mixed"),
            Constant("fixed", name="const"),
        ]
    )
    d = to_optuna(space)
    assert d["lr"] == FloatDistribution(1e-4, 1.0, log=True)
    assert d["shift"] == FloatDistribution(-1.0, 1.0)
    assert d["width"] == IntDistribution(1, 64, log=True)
    assert d["mixed"] == CategoricalDistribution(["a", 1, 2.5, None, False])
    assert d["const"] == CategoricalDistribution(["fixed"])
    assert list(d) == list(space.names)


def test_the_registered_parser():
    d = searchable("s", space={"x": (0.0, 1.0)}).space(parser="optuna")
    assert d == {"x": FloatDistribution(0.0, 1.0)}


def test_weights_are_dropped_with_a_warning():
    space = Space([Categorical(["a", "b"], weights=(3, 1), name="k")])
    with pytest.warns(UserWarning, match="weights of 'k' are ignored"):
        d = to_optuna(space)
    assert d["k"] == CategoricalDistribution(["a", "b"])


def test_choices_optuna_cannot_store_are_named():
    space = Space([Categorical([(1, 2), (3, 4)], name="pair")])
    with pytest.raises(InvalidSpaceError, match="'pair': Optuna stores choices"):
        to_optuna(space)


# ---------------------------------------------------------------------- parity
def test_same_proposals_as_the_native_ask_and_tell_loop_with_tpe():
    space = Space(
        [
            Float(-5.0, 5.0, name="x"),
            Float(1e-3, 1.0, log=True, name="lr"),
            Integer(1, 32, name="n"),
            Categorical(["a", "b", "c"], name="kind"),
        ]
    )
    distributions = to_optuna(space)

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=42))
    native = []
    for _ in range(20):
        t = study.ask(distributions)
        native.append(dict(t.params))
        study.tell(t, cost_of(t.params))

    optimizer = create_optimizer("optuna", space=space, seed=42)
    ours = []
    for _ in range(20):
        trial = optimizer.ask()
        ours.append(dict(trial.config))
        optimizer.tell(trial.success(cost=cost_of(trial.config)))

    assert ours == native
    assert len({tuple(sorted(c.items())) for c in ours}) == 20
    # Past TPE's 10 random start-up trials, the model proposed the rest.
    assert [t.state for t in optimizer.study.trials] == [TrialState.COMPLETE] * 20


# ---------------------------------------------------------------------- tell
def test_tell_maps_success_to_complete_and_failures_to_fail():
    optimizer = OptunaOptimizer.create(space={"x": (0.0, 1.0)}, seed=0)
    trials = [optimizer.ask() for _ in range(3)]
    optimizer.tell(trials[0].success(cost=0.25))
    optimizer.tell(trials[1].fail(cost=0.5))
    optimizer.tell(trials[2].crashed(MemoryError("memory limit")))
    states = [t.state for t in optimizer.study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.FAIL]
    assert optimizer.study.trials[0].value == 0.25
    assert isinstance(trials[0].info, OptunaTrialInfo)
    assert trials[0].info.number == 0


def test_declared_metrics_become_directions_and_values():
    metrics = [Metric("accuracy", minimize=False), Metric("seconds")]
    optimizer = create_optimizer("optuna", space={"x": (0.0, 1.0)}, seed=0, metrics=metrics)
    assert [d.name for d in optimizer.study.directions] == ["MAXIMIZE", "MINIMIZE"]
    trial = optimizer.ask()
    optimizer.tell(trial.success(accuracy=0.9, seconds=3.0, note="ignored"))
    assert optimizer.study.trials[0].values == [0.9, 3.0]


def test_a_maximised_metric_is_told_as_it_is():
    optimizer = create_optimizer(
        "optuna", space={"x": (0.0, 1.0)}, seed=0, metrics=Metric("accuracy", minimize=False)
    )
    for _ in range(12):
        trial = optimizer.ask()
        optimizer.tell(trial.success(accuracy=trial.config["x"]))
    assert optimizer.study.best_value == max(t.value for t in optimizer.study.trials)


def test_direction_without_metrics_names_cost():
    optimizer = OptunaOptimizer.create(space={"x": (0.0, 1.0)}, seed=0, direction="maximize")
    assert optimizer.metrics == (Metric("cost", minimize=False),)


def test_directions_that_disagree_with_metrics_are_refused():
    with pytest.raises(ValueError, match="disagree"):
        OptunaOptimizer.create(
            space={"x": (0.0, 1.0)}, metrics=[Metric("accuracy")], direction="maximize"
        )
    with pytest.raises(ValueError, match="named metrics"):
        OptunaOptimizer.create(space={"x": (0.0, 1.0)}, directions=["minimize", "maximize"])


def test_wrapping_a_study_checks_its_directions():
    study = optuna.create_study(directions=["minimize", "maximize"])
    with pytest.raises(ValueError, match="declare one metric for each"):
        OptunaOptimizer(study=study, space={"x": (0.0, 1.0)})
    with pytest.raises(ValueError, match="do not match"):
        OptunaOptimizer(study=study, space={"x": (0.0, 1.0)}, metrics=["a", "b"])
    optimizer = OptunaOptimizer(
        study=study, space={"x": (0.0, 1.0)}, metrics=["a", Metric("b", minimize=False)]
    )
    trial = optimizer.ask()
    optimizer.tell(trial.success(a=1.0, b=2.0))
    single = OptunaOptimizer(
        study=optuna.create_study(direction="maximize"), space={"x": (0.0, 1.0)}
    )
    assert single.metrics == (Metric("cost", minimize=False),)


def test_native_distributions_are_used_as_they_are():
    distributions = {"x": FloatDistribution(0.0, 1.0), "k": CategoricalDistribution(["u", "v"])}
    optimizer = OptunaOptimizer.create(space=distributions, seed=3)
    trial = optimizer.ask()
    assert set(trial.config) == {"x", "k"}
    assert optimizer.space is None


# ---------------------------------------------------------------------- conditions, forbidden
def test_conditions_are_suggested_define_by_run_only_when_active():
    space = Space(
        [Categorical(["sgd", "adam"], name="opt"), Float(0.0, 0.99, name="momentum")],
        conditions=[Condition("momentum", "opt", ("sgd",))],
    )
    optimizer = OptunaOptimizer.create(space=space, seed=1)
    seen = set()
    for _ in range(10):
        trial = optimizer.ask()
        assert ("momentum" in trial.config) == (trial.config["opt"] == "sgd")
        # Optuna records exactly what the objective sees: no inactive value is sampled.
        assert trial.info.params == trial.config
        seen.add(trial.config["opt"])
        optimizer.tell(trial.success(cost=1.0))
    assert seen == {"sgd", "adam"}
    for frozen in optimizer.study.trials:
        assert set(frozen.params) == (
            {"opt", "momentum"} if frozen.params["opt"] == "sgd" else {"opt"}
        )


def test_nested_choices_keep_log_scale_and_suggest_parents_first():
    from byop.pipeline import Choice, Component

    def svc(c=1.0, kernel="rbf", gamma=0.1): ...
    def knn(k=5): ...

    kernels = Choice(
        Component(svc, space={"gamma": Float(1e-4, 1.0, log=True)}, name="rbf"),
        Component(svc, name="linear"),
        name="kernel",
    )
    svm = Component(svc, space={"C": Float(1e-2, 1e2, log=True)}, name="svm")
    space = Choice(svm >> kernels, Component(knn, space={"k": (1, 30)}), name="clf").space()
    # The pipeline's own order puts children after parents already; reverse it to check the
    # optimizer sorts by dependency itself.
    space = Space(list(reversed(space.hyperparameters)), conditions=space.conditions)
    optimizer = OptunaOptimizer.create(space=space, seed=3)
    for _ in range(30):
        trial = optimizer.ask()
        assert trial.config == space.active(trial.config)
        assert trial.info.params == trial.config
        optimizer.tell(trial.success(cost=1.0))
    for frozen in optimizer.study.trials:
        for name, distribution in frozen.distributions.items():
            if name.endswith(("gamma", ":C")):
                assert distribution.log, name
        if "pipeline:kernel:rbf:gamma" in frozen.params:
            assert frozen.params["pipeline:kernel:__choice__"] == "rbf"
    chosen = {t.params["__choice__"] for t in optimizer.study.trials}
    assert chosen == {"pipeline", "knn"}


def test_forbidden_configurations_are_failed_in_the_study_and_never_asked():
    space = Space(
        [Categorical(["a", "b"], name="p"), Categorical(["a", "b"], name="q")],
        forbidden=[Forbidden([("p", "a"), ("q", "a")])],
    )
    optimizer = OptunaOptimizer.create(space=space, seed=2, sampler=optuna.samplers.RandomSampler)
    for _ in range(15):
        trial = optimizer.ask()
        assert not (trial.config["p"] == "a" and trial.config["q"] == "a")
        optimizer.tell(trial.success(cost=1.0))
    failed = [t for t in optimizer.study.trials if t.state == TrialState.FAIL]
    assert failed, "seed 2 draws at least one forbidden pair"
    assert all(t.params == {"p": "a", "q": "a"} for t in failed)


def test_a_space_forbidden_everywhere_says_so():
    space = Space([Categorical(["a"], name="p")], forbidden=[Forbidden([("p", "a")])])
    optimizer = OptunaOptimizer.create(space=space, seed=2, max_forbidden_retries=5)
    with pytest.raises(InvalidSpaceError, match="5 forbidden configurations in a row"):
        optimizer.ask()


# ---------------------------------------------------------------------- restore
def test_restore_warm_starts_the_study():
    earlier = OptunaOptimizer.create(space={"x": (0.0, 1.0)}, seed=5)
    reports = []
    for _ in range(4):
        trial = earlier.ask()
        reports.append(trial.success(cost=trial.config["x"]))
        earlier.tell(reports[-1])
    reports.append(earlier.ask().fail())

    later = OptunaOptimizer.create(space={"x": (0.0, 1.0)}, seed=5)
    later.restore(reports)
    trials = later.study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 4 + [TrialState.FAIL]
    assert [t.params for t in trials[:4]] == [r.trial.info.params for r in reports[:4]]
    assert trials[0].user_attrs["byop_name"] == "optuna-0"
    trial = later.ask()
    assert trial.name == "optuna-5"
    with pytest.raises(UnknownTrialError, match="not asked of this OptunaOptimizer but of another"):
        later.tell(reports[0])  # restored here, but asked of `earlier`
    stored = Trial(name="optuna-0", config={"x": 0.5})  # as read back from a store
    with pytest.raises(UnknownTrialError, match="already told .*or restored"):
        later.tell(stored.success(cost=0.5))


def test_restore_from_another_optimizer_uses_the_config():
    from byop.optimization import RandomSearch

    rs = RandomSearch(space={"x": (0.0, 1.0)}, seed=1)
    trial = rs.ask()
    report = trial.success(cost=0.1)
    later = OptunaOptimizer.create(space={"x": (0.0, 1.0)}, seed=5)
    later.restore([report])
    assert later.study.trials[0].params == {"x": trial.config["x"]}
    bad = Trial(name="out-of-range", config={"x": 7.0}).success(cost=1.0)
    with pytest.raises(ValueError, match="Cannot restore trial 'out-of-range'"):
        later.restore([bad])


def test_loading_the_plugin_does_not_import_optuna():
    code = (
        "import sys\n"
        "from byop.plugins import available\n"
        "assert 'optuna' in available('optimizers')\n"
        "import byop.optuna\n"
        "assert 'optuna' not in sys.modules, 'optuna was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------- early stopping
def test_a_pruned_trial_is_told_pruned_with_its_last_value_and_restored_so():
    optimizer = OptunaOptimizer.create(space={"x": (0.0, 1.0)}, seed=0)
    trial = optimizer.ask()
    trial.report_progress(4, cost=0.75)
    report = trial.prune()
    optimizer.tell(report)
    (frozen,) = optimizer.study.trials
    assert frozen.state is TrialState.PRUNED and frozen.intermediate_values == {4: 0.75}
    later = OptunaOptimizer.create(space={"x": (0.0, 1.0)}, seed=0)
    later.restore([report])
    (restored,) = later.study.trials
    assert restored.state is TrialState.PRUNED and restored.intermediate_values == {4: 0.75}


def test_the_studys_own_pruner_judges_progress():
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=1.0))
    optimizer = OptunaOptimizer(study=study, space={"x": (0.0, 1.0)})
    trial = optimizer.ask()
    assert optimizer.should_stop(trial, 1, {"cost": 0.5}) is False
    assert optimizer.should_stop(trial, 2, {"cost": 5.0}) is True
    assert optimizer.should_stop(trial, 2.5, {"cost": 5.0}) is False  # not a whole step
    quiet = OptunaOptimizer(
        study=optuna.create_study(pruner=optuna.pruners.NopPruner()), space={"x": (0.0, 1.0)}
    )
    assert quiet.should_stop(quiet.ask(), 1, {"cost": 1e9}) is False


class TestOptunaMedianPruner(PrunerConformance):
    pruner_name = "optuna.median"
    options: ClassVar[dict[str, Any]] = {"n_startup_trials": 3}


class TestOptunaSuccessiveHalvingPruner(PrunerConformance):
    pruner_name = "optuna.successive_halving"


class TestOptunaHyperbandPruner(PrunerConformance):
    pruner_name = "optuna.hyperband"
    options: ClassVar[dict[str, Any]] = {"min_resource": 1, "max_resource": 9}


def test_optuna_pruners_refuse_what_they_cannot_take():
    from byop.optimization import create_pruner
    from byop.optuna import OptunaPruner

    with pytest.raises(TypeError, match="optuna.pruners"):
        OptunaPruner(object())
    pruner = create_pruner("optuna.median")
    with pytest.raises(TypeError, match="whole steps"):
        pruner.should_stop(Trial(name="t", config={}), 0.5, {"cost": 1.0})


def test_optuna_pruners_with_any_optimizer():
    from byop.run import optimize

    def curve(trial):
        for step in range(1, 10):
            if trial.report_progress(step, cost=trial.config["x"] + 1 / step):
                return trial.prune()
        return trial.success(cost=trial.config["x"])

    history = optimize(
        curve,
        {"x": (0.0, 1.0)},
        seed=0,
        max_trials=20,
        backend="threads",
        progress="off",
        pruner="optuna.median",
    )
    assert history.counts()["pruned"] > 0
