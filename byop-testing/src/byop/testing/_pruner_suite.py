"""The conformance suite every pruner plugin runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from byop.optimization import (
    Metric,
    Pruner,
    Report,
    Trial,
    available_pruners,
    create_pruner,
)


def curves(n: int = 12, steps: int = 9) -> list[tuple[str, float]]:
    """The suite's learning curves: trial ``c<i>`` has ``cost = base + 1/step``.

    The bases are spread and distinct; the best (lowest) and the worst (highest)
    are the last two trials, so that they are judged against every other.
    """
    bases = [1.0 + ((7 * i) % n) / n for i in range(n)]
    middle = [(f"c{i}", b) for i, b in enumerate(bases)]
    return [*middle, ("best", 0.0), ("worst", 10.0)]


class PrunerConformance:
    """A pytest base class for pruners: subclass it and set ``pruner_name``.

    The suite plays learning curves through the pruner, trial after trial, as a run with one
    worker would (each trial to its last step unless stopped, then its final report), and
    checks the contract of `byop.optimization.Pruner`.

    Example:
        ```python
        from byop.testing import PrunerConformance

        class TestMedian(PrunerConformance):
            pruner_name = "median"
            options = {"min_trials": 3}
        ```

    Attributes:
        pruner_name: The registered name of the pruner under test.
        options: Its options, for `byop.optimization.create_pruner`.
        stops_bad_trials: Whether it is expected to stop a trial far worse than every other
            (``False`` for a pruner that never stops, and reads no metric).
        steps: How many steps each curve has.
    """

    pruner_name: ClassVar[str | None] = None
    options: ClassVar[dict[str, Any]] = {}
    stops_bad_trials: ClassVar[bool] = True
    steps: ClassVar[int] = 9

    def make(self, metric: Metric | str | None = None) -> Pruner:
        """A fresh pruner, judging ``metric`` (``cost`` by default)."""
        if self.pruner_name is None:
            raise TypeError(f"{type(self).__name__} must set pruner_name to a registered name.")
        return create_pruner(self.pruner_name, metric=metric, **self.options)

    def play(self, pruner: Pruner, *, sign: float = 1.0, key: str = "cost") -> dict[str, Any]:
        """Run the curves through ``pruner``; each trial's answers, and where it stopped."""
        out: dict[str, Any] = {}
        for name, base in curves(steps=self.steps):
            trial: Trial[Any] = Trial(name=name, config={"base": base})
            answers = []
            for step in range(1, self.steps + 1):
                value = sign * (base + 1 / step)
                answer = pruner.should_stop(trial, step, {key: value, "other": 0.5})
                answers.append(answer)
                trial.report_progress(step, **{key: value})  # kept on the trial (no link)
                if answer:
                    break
            report: Report[Any] = (
                trial.prune() if answers[-1] else trial.success(**{key: sign * base})
            )
            pruner.tell(report)
            out[name] = answers
        return out

    # ------------------------------------------------------------------ the suite
    def test_is_registered_and_listed(self) -> None:
        assert self.pruner_name in available_pruners()
        assert isinstance(self.make(), Pruner)

    def test_answers_are_bools(self) -> None:
        for answers in self.play(self.make()).values():
            assert all(type(a) is bool for a in answers), answers

    def test_same_reports_same_answers(self) -> None:
        assert self.play(self.make()) == self.play(self.make())

    def test_never_stops_the_best_trial(self) -> None:
        answers = self.play(self.make())
        assert not any(answers["best"]), answers["best"]

    def test_stops_a_trial_far_worse_than_the_others(self) -> None:
        if not self.stops_bad_trials:
            pytest.skip("the pruner does not claim to stop trials")
        assert any(self.play(self.make())["worst"])

    def test_follows_the_metric_direction(self) -> None:
        # The same curves negated, judged as a metric to maximise: the same trials are best.
        pruner = self.make(Metric("score", minimize=False))
        answers = self.play(pruner, sign=-1.0, key="score")
        assert not any(answers["best"])
        if self.stops_bad_trials:
            assert any(answers["worst"])

    def test_a_report_without_the_metric_is_an_error_naming_it(self) -> None:
        if not self.stops_bad_trials:
            pytest.skip("the pruner reads no metric")
        pruner = self.make(Metric("loss"))
        with pytest.raises((KeyError, ValueError), match="loss"):
            pruner.should_stop(Trial(name="t", config={}), 1, {"cost": 1.0})

    def test_takes_every_kind_of_final_report(self) -> None:
        pruner = self.make()
        for trial, end in _every_end():
            pruner.should_stop(trial, 1, {"cost": 1.0})
            pruner.tell(end(trial))
        unseen: Trial[Any] = Trial(name="never-reported", config={})
        pruner.tell(unseen.success(cost=1.0))


def _every_end() -> Iterator[tuple[Trial[Any], Any]]:
    yield Trial(name="s", config={}), lambda t: t.success(cost=1.0)
    yield Trial(name="f", config={}), lambda t: t.fail()
    yield Trial(name="c", config={}), lambda t: t.crashed(RuntimeError("x"))
    yield Trial(name="p", config={}), lambda t: t.prune()
