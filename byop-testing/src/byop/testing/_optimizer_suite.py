"""The conformance suite every optimizer plugin runs."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest

from byop.optimization import (
    Fidelity,
    Metric,
    Optimizer,
    OptimizerExhaustedError,
    Report,
    SuccessReport,
    SupportsRestore,
    Trial,
    UnknownTrialError,
    available_optimizers,
    create_optimizer,
)
from byop.pipeline import Space
from byop.serialization import dumps, loads
from byop.testing._spaces import conditional_space, cost_of, mixed_space


class OptimizerConformance:
    """A pytest base class: subclass it in a test module and every test below runs.

    Set ``optimizer_name`` to the name your plugin registers (the suite then creates the
    optimizer with `create_optimizer`, which also proves the registration), or override
    `create`. Give the ``space`` your optimizer searches (by default one with every kind of
    hyperparameter), and switch off what it does not claim with the ``supports_*`` flags.

    What the suite expects of ``tell``: a report of a trial the optimizer did not ask for, or
    one it was told already, raises `byop.optimization.UnknownTrialError`. Keeping the asked
    trials in a `byop.optimization.PendingTrials` does that for you (its ``pop`` raises it).

    Example:
        ```python
        from byop.testing import OptimizerConformance

        class TestRandomSearch(OptimizerConformance):
            optimizer_name = "random_search"
            checks_results = False  # random search ignores what trials report
        ```

    Attributes:
        optimizer_name: The registered name, or ``None`` when `create` is overridden.
        space: The space most tests search (by default every kind of hyperparameter).
        conditional_space: The space of the conditional test (a hyperparameter active only
            for some values of another).
        n_trials: How many trials each test asks for; keep it small for slow optimizers.
        supports_seed: Whether the seed changes the trials (``False`` for an optimizer
            without randomness, such as a grid: then only "same seed, same trials" is checked).
        supports_conditions: Whether configurations leave out inactive hyperparameters.
        supports_metrics: Whether ``metrics=[Metric(...)]`` is accepted when creating it.
        supports_multi_objective: Whether several metrics at once are accepted.
        checks_results: Whether telling a success that lacks a declared metric raises
            ``KeyError`` (and leaves the trial to be told again).
        declares_fidelities: Whether `create` declares fidelities itself (a multi-fidelity
            optimizer's suite): then the declared-fidelity test is left out.
    """

    optimizer_name: ClassVar[str | None] = None
    space: ClassVar[Space] = mixed_space()
    conditional_space: ClassVar[Space] = conditional_space()
    n_trials: ClassVar[int] = 6
    supports_seed: ClassVar[bool] = True
    supports_conditions: ClassVar[bool] = True
    supports_metrics: ClassVar[bool] = True
    supports_multi_objective: ClassVar[bool] = True
    checks_results: ClassVar[bool] = True
    declares_fidelities: ClassVar[bool] = False

    # ------------------------------------------------------------------ to override
    def create(self, *, space: Any, seed: int, **kwargs: Any) -> Optimizer[Any]:
        """A fresh optimizer over ``space`` with ``seed`` (``kwargs``: e.g. ``metrics=``)."""
        if self.optimizer_name is None:
            raise TypeError(
                f"{type(self).__name__} must set optimizer_name to a registered optimizer, "
                "or override create(space=..., seed=..., **kwargs)."
            )
        optimizer: Optimizer[Any] = create_optimizer(
            self.optimizer_name, space=space, seed=seed, **kwargs
        )
        return optimizer

    # ------------------------------------------------------------------ helpers
    def _run(self, optimizer: Optimizer[Any], n: int) -> list[Report[Any]]:
        reports: list[Report[Any]] = []
        for _ in range(n):
            trial = optimizer.ask()
            report = trial.success(cost=cost_of(trial.config))
            optimizer.tell(report)
            reports.append(report)
        return reports

    def _check_config(self, space: Space, config: Mapping[str, Any]) -> None:
        assert isinstance(config, Mapping), f"config is a {type(config).__name__}, not a Mapping"
        space.validate(config)
        children = {c.child for c in space.conditions}
        for name in space.names:
            if name not in children:
                assert name in config, f"config {dict(config)} lacks {name!r}"
        for condition in space.conditions:
            active = condition.holds(config)
            assert (condition.child in config) == active, (
                f"config {dict(config)}: {condition.child!r} must be there exactly when "
                f"{condition.parent!r} is one of {list(condition.values)}"
            )
        for value in config.values():
            assert type(value).__module__ == "builtins", (
                f"config value {value!r} is a {type(value).__qualname__}, not a plain Python value"
            )

    # ------------------------------------------------------------------ the suite
    def test_registered_under_its_name(self) -> None:
        if self.optimizer_name is None:
            pytest.skip("create() is overridden; no registered name to check")
        assert self.optimizer_name in available_optimizers()

    def test_ask_gives_a_trial_of_the_space(self) -> None:
        optimizer = self.create(space=self.space, seed=1)
        trial = optimizer.ask()
        assert isinstance(trial, Trial)
        assert isinstance(trial.name, str)
        assert trial.name
        assert trial.seed is None or isinstance(trial.seed, int)
        assert trial.budget is None or isinstance(trial.budget, int | float)
        self._check_config(self.space, trial.config)
        assert trial.report is None

    def test_ask_and_tell_round_trips(self) -> None:
        optimizer = self.create(space=self.space, seed=2)
        for report in self._run(optimizer, self.n_trials):
            self._check_config(self.space, report.trial.config)

    def test_several_asked_before_any_is_told_in_any_order(self) -> None:
        optimizer = self.create(space=self.space, seed=3)
        trials = [optimizer.ask() for _ in range(3)]
        assert len({t.name for t in trials}) == 3
        for trial in reversed(trials):
            optimizer.tell(trial.success(cost=cost_of(trial.config)))
        self._run(optimizer, 2)

    def test_success_fail_and_crash_are_told(self) -> None:
        optimizer = self.create(space=self.space, seed=4)
        trials = [optimizer.ask() for _ in range(6)]
        with trials[0].begin():
            _ = 1 / 0
        reports: list[Report[Any]] = [
            trials[0].fail(),
            trials[1].fail(cost=10.0),
            trials[2].crashed(RuntimeError("the worker died")),
            trials[3].crashed(MemoryError("memory limit")),
            trials[4].crashed(TimeoutError("wall-time limit")),
            trials[5].success(cost=cost_of(trials[5].config)),
        ]
        assert isinstance(reports[0].exception, ZeroDivisionError)
        for report in reports:
            optimizer.tell(report)
        # Still asks after failures, with names not seen before.
        names = {t.name for t in trials}
        for report in self._run(optimizer, 2):
            assert report.trial.name not in names

    def test_tell_takes_a_copy_of_the_report(self) -> None:
        # Reports come back from worker processes as copies of the trial that was asked.
        optimizer = self.create(space=self.space, seed=5)
        trial = optimizer.ask()
        report = trial.success(cost=cost_of(trial.config))
        optimizer.tell(pickle.loads(pickle.dumps(report)))
        self._run(optimizer, 1)

    def test_same_seed_same_trials(self) -> None:
        first = self._run(self.create(space=self.space, seed=6), self.n_trials)
        second = self._run(self.create(space=self.space, seed=6), self.n_trials)
        assert [(r.trial.name, dict(r.trial.config)) for r in first] == [
            (r.trial.name, dict(r.trial.config)) for r in second
        ]

    def test_other_seed_other_trials(self) -> None:
        if not self.supports_seed:
            pytest.skip("the optimizer has no randomness for a seed to change")
        first = self._run(self.create(space=self.space, seed=7), self.n_trials)
        other = self._run(self.create(space=self.space, seed=8), self.n_trials)
        assert [dict(r.trial.config) for r in first] != [dict(r.trial.config) for r in other]

    def test_trial_names_are_unique(self) -> None:
        optimizer = self.create(space=self.space, seed=9)
        names = [r.trial.name for r in self._run(optimizer, self.n_trials)]
        names += [optimizer.ask().name for _ in range(3)]
        assert len(set(names)) == len(names), names

    def test_trials_and_reports_pickle(self) -> None:
        optimizer = self.create(space=self.space, seed=10)
        trial = optimizer.ask()
        copy = pickle.loads(pickle.dumps(trial))
        assert copy == trial
        assert copy.name == trial.name
        assert dict(copy.config) == trial.config
        report = trial.success(cost=1.0)
        report_copy = pickle.loads(pickle.dumps(report))
        assert report_copy == report
        assert report_copy.trial.report is not None
        crash = optimizer.ask().crashed(MemoryError("memory limit"))
        assert pickle.loads(pickle.dumps(crash)) == crash

    def test_reports_round_trip_through_json(self) -> None:
        optimizer = self.create(space=self.space, seed=11)
        trial = optimizer.ask()
        report = trial.success(cost=1.0)
        back = loads(dumps(report), Report)
        assert back.trial.name == trial.name
        assert dict(back.trial.config) == dict(trial.config)
        assert back.status == report.status
        assert back.results == report.results

    def test_tell_of_a_trial_not_asked_raises(self) -> None:
        optimizer = self.create(space=self.space, seed=12)
        config = self.space.default_config()
        stranger: Trial[None] = Trial(name="byop-conformance-never-asked", config=config)
        with pytest.raises(UnknownTrialError):
            _tell_expecting_unknown(optimizer, stranger.success(cost=1.0), "never asked")
        self._run(optimizer, 1)

    def test_tell_refuses_a_trial_of_another_optimizer(self) -> None:
        # Two optimizers of one kind name their trials alike: names alone cannot tell them apart.
        mine = self.create(space=self.space, seed=19)
        other = self.create(space=self.space, seed=19)
        trial, twin = mine.ask(), other.ask()
        with pytest.raises(UnknownTrialError, match="not asked of this"):
            mine.tell(twin.success(cost=cost_of(twin.config)))
        # Neither optimizer counts it as told: each still takes its own report.
        mine.tell(trial.success(cost=cost_of(trial.config)))
        other.tell(twin.report)  # type: ignore[arg-type]

    def test_tell_refuses_what_is_not_a_report(self) -> None:
        optimizer = self.create(space=self.space, seed=20)
        trial = optimizer.ask()
        with pytest.raises(TypeError, match="report"):
            optimizer.tell(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="report"):
            optimizer.tell(trial)  # type: ignore[arg-type]
        optimizer.tell(trial.success(cost=cost_of(trial.config)))

    def test_tell_twice_raises(self) -> None:
        optimizer = self.create(space=self.space, seed=13)
        trial = optimizer.ask()
        report = trial.success(cost=1.0)
        optimizer.tell(report)
        with pytest.raises(UnknownTrialError):
            _tell_expecting_unknown(optimizer, report, "told already")

    def test_an_empty_space_gives_its_one_configuration(self) -> None:
        # An empty space has one configuration, {}: an optimizer gives it as it would give the
        # only configuration of any space, again and again or once and then exhausted; it
        # never hangs.
        outcome: list[Any] = []

        def ask_three() -> None:
            try:
                optimizer = self.create(space=Space([]), seed=21)
                for _ in range(3):
                    trial = optimizer.ask()
                    outcome.append(dict(trial.config))
                    optimizer.tell(trial.success(cost=1.0))
            except OptimizerExhaustedError:
                outcome.append("exhausted")
            except Exception as e:
                outcome.append(e)

        thread = threading.Thread(target=ask_three, daemon=True)
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), "ask() hangs on an empty space"
        assert outcome[0] == {}, outcome
        assert all(o == {} for o in outcome[:-1]), outcome
        assert outcome[-1] in ({}, "exhausted"), outcome

    def test_a_bad_seed_is_refused_when_made(self) -> None:
        with pytest.raises(TypeError, match="seed must be an int"):
            self.create(space=self.space, seed="a")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="seed must be in"):
            self.create(space=self.space, seed=-1)

    def test_conditional_space(self) -> None:
        if not self.supports_conditions:
            pytest.skip("the optimizer does not claim conditional spaces")
        space = self.conditional_space
        optimizer = self.create(space=space, seed=14)
        for report in self._run(optimizer, self.n_trials):
            self._check_config(space, report.trial.config)

    def test_declared_metric(self) -> None:
        if not self.supports_metrics:
            pytest.skip("the optimizer does not take metrics=")
        accuracy = Metric("accuracy", minimize=False)
        optimizer = self.create(space=self.space, seed=15, metrics=[accuracy])
        for _ in range(self.n_trials):
            trial = optimizer.ask()
            optimizer.tell(trial.success(accuracy=1.0 / (1.0 + cost_of(trial.config))))

    def test_success_without_the_declared_metric_raises(self) -> None:
        if not (self.supports_metrics and self.checks_results):
            pytest.skip("the optimizer does not check what trials report")
        optimizer = self.create(space=self.space, seed=16, metrics=[Metric("accuracy", False)])
        trial = optimizer.ask()
        wrong = trial.success(cost=1.0)
        with pytest.raises(KeyError, match="accuracy"):
            optimizer.tell(wrong)
        # The trial is still pending: a report with the declared metric is accepted.
        optimizer.tell(SuccessReport(trial, {"accuracy": 0.5}, wrong.time, wrong.cpu_time))

    def test_declared_fidelity(self) -> None:
        # The factory contract: every optimizer takes fidelities=, and each trial carries a
        # value of each within its range (a full-fidelity optimizer: the maximum).
        if self.declares_fidelities:
            pytest.skip("create() declares the fidelities itself")
        epochs = Fidelity("epochs", 1, 9, integer=True)
        optimizer = self.create(space=self.space, seed=18, fidelities=[epochs])
        for _ in range(self.n_trials):
            trial = optimizer.ask()
            value = trial.fidelities.get("epochs")
            assert value is not None, f"trial {trial.name} has no value of the declared fidelity"
            assert epochs.low <= value <= epochs.high
            assert trial.budget == value
            optimizer.tell(trial.success(cost=cost_of(trial.config) / value))

    def test_several_metrics(self) -> None:
        if not self.supports_multi_objective:
            pytest.skip("the optimizer does not claim several objectives")
        metrics: Sequence[Metric] = [Metric("loss"), Metric("size", minimize=False)]
        optimizer = self.create(space=self.space, seed=17, metrics=metrics)
        for _ in range(self.n_trials):
            trial = optimizer.ask()
            loss = cost_of(trial.config)
            optimizer.tell(trial.success(loss=loss, size=1.0 / (1.0 + loss)))

    def test_restore_from_reports_of_an_earlier_run(self) -> None:
        earlier = self.create(space=self.space, seed=18)
        if not isinstance(earlier, SupportsRestore):
            pytest.skip("the optimizer does not implement restore()")
        reports = self._run(earlier, self.n_trials - 1)
        failed = earlier.ask()
        reports.append(failed.crashed(RuntimeError("the worker died")))
        # From storage: the reports as they are read back from JSON.
        stored = [loads(dumps(r), Report) for r in reports]
        for restored_from in (reports, stored):
            later = self.create(space=self.space, seed=18)
            assert isinstance(later, SupportsRestore)
            later.restore(restored_from)
            names = {r.trial.name for r in restored_from}
            for report in self._run(later, 3):
                assert report.trial.name not in names, "a new trial reuses a restored name"
                self._check_config(self.space, report.trial.config)


def _tell_expecting_unknown(optimizer: Optimizer[Any], report: Report[Any], why: str) -> None:
    """Tell a report that must be refused; a refusal of the wrong type says what to raise."""
    try:
        optimizer.tell(report)
    except UnknownTrialError:
        raise
    except Exception as e:
        pytest.fail(
            f"tell() of a trial {why} raised {type(e).__name__}: {e}; raise "
            "byop.optimization.UnknownTrialError instead (PendingTrials.pop raises it for you)"
        )
