"""The conformance tests of conditional and nested spaces, which every optimizer plugin runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from byop.optimization import Optimizer, Report, SupportsRestore, create_optimizer
from byop.pipeline import (
    Categorical,
    Choice,
    Component,
    Float,
    Forbidden,
    Integer,
    Node,
    Sequential,
    Space,
)
from byop.serialization import dumps, loads
from byop.testing._spaces import cost_of


def _svm(**kwargs: Any) -> dict[str, Any]:
    return kwargs


def _tree(depth: int = 3, criterion: str = "gini") -> dict[str, Any]:
    return {"depth": depth, "criterion": criterion}


def _scaler(with_mean: bool = True) -> dict[str, Any]:
    return {"with_mean": with_mean}


def nested_pipeline() -> Node:
    """A pipeline whose space nests a choice in a choice, with log scales and a forbidden pair.

    Its keys: ``scaler:with_mean`` (always active), ``clf:__choice__`` (``svm`` or ``tree``);
    under ``svm``: ``clf:svm:model:C`` (log scale) and ``clf:svm:kernel:__choice__`` (``rbf`` or
    ``poly``), under which ``clf:svm:kernel:rbf:gamma`` (log scale) or
    ``clf:svm:kernel:poly:degree`` and ``...:coef0``; under ``tree``: ``clf:tree:depth`` (log
    scale) and ``clf:tree:criterion``, never ``entropy`` with depth 1.
    """
    with_mean: list[Any] = [True, False]
    criteria: list[Any] = ["gini", "entropy"]
    kernels = Choice(
        Component(_svm, space={"gamma": Float(1e-4, 1.0, log=True)}, name="rbf"),
        Component(_svm, space={"degree": Integer(2, 5), "coef0": (0.0, 1.0)}, name="poly"),
        name="kernel",
    )
    model = Component(_svm, space={"C": Float(1e-3, 1e3, log=True)}, name="model")
    svm = Sequential(model, kernels, name="svm")
    tree = Component(
        _tree,
        space=Space(
            [
                Integer(1, 64, log=True, name="depth"),
                Categorical(criteria, name="criterion"),
            ],
            forbidden=[Forbidden([("depth", 1), ("criterion", "entropy")])],
        ),
        name="tree",
    )
    scaler = Component(_scaler, space={"with_mean": with_mean}, name="scaler")
    return scaler >> Choice(svm, tree, name="clf")


def nested_space() -> Space:
    """The space of `nested_pipeline`."""
    space: Space = nested_pipeline().space()
    return space


def active_names(space: Space, config: Mapping[str, Any]) -> set[str]:
    """The hyperparameters that are active under ``config``'s values, parents first."""
    active: set[str] = set()
    for hp in space.in_dependency_order():
        conditions = space.conditions_of(hp.name)
        if all(c.parent in active and c.holds(config) for c in conditions):
            active.add(hp.name)
    return active


class ConditionalSpaceConformance:
    """A pytest mixin: conditional and nested spaces, for an optimizer plugin's suite class.

    Mix it into the class that runs `OptimizerConformance`, or use it alone with
    ``optimizer_name`` (or `create`):

    ```python
    from byop.testing import ConditionalSpaceConformance, OptimizerConformance

    class TestMyOptimizer(OptimizerConformance, ConditionalSpaceConformance):
        optimizer_name = "my_optimizer"
    ```

    Every trial's ``config`` must hold exactly the hyperparameters whose conditions hold
    (nested choices transitively), each in its range, log scales kept, forbidden pairs never
    asked; every branch must be reached; a pipeline configures from each config; and, for an
    optimizer with ``restore()``, conditional reports restore.

    Attributes:
        conditional_trials: How many trials each test asks for.
        supports_conditions: Set to ``False`` to skip the mixin (the optimizer claims none).
    """

    optimizer_name: ClassVar[str | None] = None
    conditional_trials: ClassVar[int] = 24
    supports_conditions: ClassVar[bool] = True

    def create(self, *, space: Any, seed: int, **kwargs: Any) -> Optimizer[Any]:
        """A fresh optimizer over ``space`` with ``seed``."""
        if self.optimizer_name is None:
            raise TypeError(
                f"{type(self).__name__} must set optimizer_name to a registered optimizer, "
                "or override create(space=..., seed=..., **kwargs)."
            )
        optimizer: Optimizer[Any] = create_optimizer(
            self.optimizer_name, space=space, seed=seed, **kwargs
        )
        return optimizer

    def _conditional_run(self, seed: int, n: int | None = None) -> list[Report[Any]]:
        if not self.supports_conditions:
            pytest.skip("the optimizer does not claim conditional spaces")
        optimizer = self.create(space=nested_space(), seed=seed)
        reports: list[Report[Any]] = []
        for _ in range(self.conditional_trials if n is None else n):
            trial = optimizer.ask()
            report = trial.success(cost=cost_of(trial.config))
            optimizer.tell(report)
            reports.append(report)
        return reports

    def test_nested_configs_hold_exactly_the_active_hyperparameters(self) -> None:
        space = nested_space()
        for report in self._conditional_run(seed=31):
            config = dict(report.trial.config)
            space.validate(config)
            assert set(config) == active_names(space, config), config
            for value in config.values():
                assert type(value).__module__ == "builtins", f"{value!r} is not plain Python"

    def test_every_branch_of_nested_choices_is_reached(self) -> None:
        configs = [r.trial.config for r in self._conditional_run(seed=32)]
        assert {c["clf:__choice__"] for c in configs} == {"svm", "tree"}
        kernels = {c["clf:svm:kernel:__choice__"] for c in configs if "clf:svm:model:C" in c}
        assert kernels == {"rbf", "poly"}

    def test_log_scales_are_kept_under_conditions(self) -> None:
        configs = [r.trial.config for r in self._conditional_run(seed=33)]
        cs = [c["clf:svm:model:C"] for c in configs if "clf:svm:model:C" in c]
        assert len(cs) >= 4, "too few trials chose the svm branch to check its scale"
        # On a log scale over [1e-3, 1e3], half the values fall below 1; on a linear one,
        # one in a thousand.
        assert sum(c < 1.0 for c in cs) >= 2, cs

    def test_forbidden_combinations_are_never_asked(self) -> None:
        for report in self._conditional_run(seed=34):
            config = report.trial.config
            assert not (
                config.get("clf:tree:depth") == 1 and config.get("clf:tree:criterion") == "entropy"
            ), config

    def test_the_pipeline_configures_from_every_config(self) -> None:
        pipeline = nested_pipeline()
        for report in self._conditional_run(seed=35, n=8):
            configured = pipeline.configure(report.trial.config)
            assert configured.space().names == ()
            chosen = configured["clf"].nodes[0].name
            assert chosen == report.trial.config["clf:__choice__"]

    def test_restore_reports_of_conditional_trials(self) -> None:
        if not self.supports_conditions:
            pytest.skip("the optimizer does not claim conditional spaces")
        earlier = self.create(space=nested_space(), seed=36)
        if not isinstance(earlier, SupportsRestore):
            pytest.skip("the optimizer does not implement restore()")
        reports = self._conditional_run(seed=36, n=6)
        stored = [loads(dumps(r), Report) for r in reports]
        later = self.create(space=nested_space(), seed=36)
        assert isinstance(later, SupportsRestore)
        later.restore(stored)
        names = {r.trial.name for r in reports}
        space = nested_space()
        for _ in range(4):
            trial = later.ask()
            assert trial.name not in names
            assert set(trial.config) == active_names(space, trial.config)
            later.tell(trial.success(cost=cost_of(trial.config)))
