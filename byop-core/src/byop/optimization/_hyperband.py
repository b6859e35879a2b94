"""Successive halving, Hyperband and ASHA: which configuration to evaluate at which fidelity.

All three evaluate configurations at a rising fidelity, rung by rung, and keep the best
``1 / eta`` of each rung for the next. Successive halving and Hyperband do it in brackets: a
rung's best are promoted once its every result is in (while a bracket waits, the next bracket
starts, so workers never idle); Hyperband varies the lowest fidelity from bracket to bracket.
ASHA promotes as soon as a configuration is in the best ``1 / eta`` of the results so far.
"""

from __future__ import annotations

import math
from typing import Any

from attrs import define, field

from byop.optimization._multifidelity import MFTrialInfo, MultiFidelityOptimizer


@define
class _Bracket:
    """One bracket: how many configurations each rung holds, and what it has asked."""

    number: int
    sizes: dict[int, int]
    """How many configurations each of its rungs evaluates, from its first rung up."""
    members: dict[int, list[int]] = field(factory=dict)
    """The configurations asked at each rung, in order."""
    queued: list[int] = field(factory=list)
    """Configurations promoted to ``rung`` and not yet asked there."""
    rung: int = -1
    """The rung it is filling (-1 before it starts)."""

    @property
    def first(self) -> int:
        return min(self.sizes)

    @property
    def done(self) -> bool:
        top = max(self.sizes)
        return self.rung == top and len(self.members.get(top, [])) >= self.sizes[top]


class SuccessiveHalving(MultiFidelityOptimizer):
    """Successive halving: the best of each rung go on, at ``eta`` times the fidelity.

    Each rung keeps ``eta`` times fewer configurations than the one below, and its best are
    promoted once all its results are in. Each bracket starts ``eta ** (rungs - 1)``
    configurations at the lowest fidelity; while it waits for a rung's results, the next
    bracket starts.
    See `MultiFidelityOptimizer` for the arguments.

    Example:
        ```python
        from byop.optimization import Fidelity, SuccessiveHalving

        sh = SuccessiveHalving(
            space={"x": (0.0, 1.0)}, fidelities=[Fidelity("epochs", 1, 9)], eta=3, seed=0
        )
        trials = [sh.ask() for _ in range(9)]
        assert {t.fidelities["epochs"] for t in trials} == {1}
        for t in trials:
            sh.tell(t.success(cost=t.config["x"]))
        promoted = sh.ask()  # the best third goes on at 3 epochs
        assert promoted.fidelities["epochs"] == 3
        ```
    """

    prefix = "sh"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._brackets: list[_Bracket] = []

    # ------------------------------------------------------------------ brackets
    def _bracket_plan(self, number: int) -> dict[int, int]:
        """How many configurations each rung of bracket ``number`` holds."""
        top = len(self.rungs) - 1
        return {r: max(1, int(self.eta ** (top - r))) for r in range(top + 1)}

    def _bracket(self, number: int) -> _Bracket:
        while len(self._brackets) <= number:
            n = len(self._brackets)
            self._brackets.append(_Bracket(n, self._bracket_plan(n)))
        return self._brackets[number]

    def _next(self) -> tuple[int, int, int]:
        for bracket in self._brackets:
            step = self._step(bracket)
            if step is not None:
                return step
        # Every open bracket waits for results (or is done): start the next one.
        bracket = self._bracket(len(self._brackets))
        step = self._step(bracket)
        assert step is not None
        return step

    def _step(self, bracket: _Bracket) -> tuple[int, int, int] | None:
        """The bracket's next trial, or ``None`` while it waits for results (or is done)."""
        if bracket.done:
            return None
        if bracket.rung < 0:
            bracket.rung = bracket.first
        rung = bracket.rung
        members = bracket.members.setdefault(rung, [])
        if bracket.queued:
            config_id = bracket.queued.pop(0)
            members.append(config_id)
            return (config_id, rung, bracket.number)
        if rung == bracket.first and len(members) < bracket.sizes[rung]:
            config_id = self._new_config()
            members.append(config_id)
            return (config_id, rung, bracket.number)
        if len(members) < bracket.sizes[rung]:
            return None  # a promotion is under way: it waits for the rung below
        if not all((c, rung) in self.results for c in members):
            return None  # the rung's results are not all in
        if rung == max(bracket.sizes):
            return None
        # Promote the rung's best (never a configuration that failed), and go up.
        best = self.top(members, rung, bracket.sizes[rung + 1])
        best = [c for c in best if math.isfinite(self.results[(c, rung)])]
        if not best:  # every one failed: the bracket ends here
            bracket.sizes = {r: n for r, n in bracket.sizes.items() if r <= rung}
            return None
        bracket.sizes[rung + 1] = len(best)
        bracket.queued = best
        bracket.rung = rung + 1
        return self._step(bracket)

    def _learn(self, info: MFTrialInfo, cost: float) -> None:
        bracket = self._bracket(info.bracket)
        members = bracket.members.setdefault(info.rung, [])
        if info.config_id not in members:
            # Restored from an earlier run: the bracket learns what it had asked.
            members.append(info.config_id)
            bracket.rung = max(bracket.rung, info.rung)
            bracket.queued = [c for c in bracket.queued if c != info.config_id]


class Hyperband(SuccessiveHalving):
    """Hyperband: successive halving in brackets that start at different fidelities.

    Bracket after bracket it cycles from the most aggressive (many configurations at the
    lowest fidelity) to plain evaluation of a few configurations at the full fidelity, hedging
    against a lowest fidelity that says little about the full one. See
    `MultiFidelityOptimizer` for the arguments.

    Example:
        ```python
        from byop.optimization import Fidelity, Hyperband

        hb = Hyperband(space={"x": (0.0, 1.0)}, fidelities=[Fidelity("epochs", 1, 9)], seed=0)
        assert hb.ask().fidelities["epochs"] == 1
        ```
    """

    prefix = "hb"

    def _bracket_plan(self, number: int) -> dict[int, int]:
        top = len(self.rungs) - 1
        s = top - number % (top + 1)  # rungs above this bracket's first
        first = top - s
        n = math.ceil((top + 1) / (s + 1) * self.eta**s)
        return {first + i: max(1, int(n * self.eta**-i)) for i in range(s + 1)}


class ASHA(MultiFidelityOptimizer):
    """Asynchronous successive halving (ASHA): promote without waiting for a whole rung.

    A configuration goes up a rung as soon as its result is among the best ``1 / eta`` of the
    results at its rung so far; when none can go up, a new configuration starts at the lowest
    fidelity. No worker ever waits. See `MultiFidelityOptimizer` for the arguments.

    Example:
        ```python
        from byop.optimization import ASHA, Fidelity

        asha = ASHA(space={"x": (0.0, 1.0)}, fidelities=[Fidelity("epochs", 1, 9)], seed=0)
        trials = [asha.ask() for _ in range(3)]
        for t in trials:
            asha.tell(t.success(cost=t.config["x"]))
        assert asha.ask().fidelities["epochs"] == 3  # the best of three goes up at once
        ```
    """

    prefix = "asha"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._done: dict[int, list[int]] = {r: [] for r in range(len(self.rungs))}
        self._promoted: dict[int, set[int]] = {r: set() for r in range(len(self.rungs))}

    def _next(self) -> tuple[int, int, int]:
        for rung in range(len(self.rungs) - 2, -1, -1):
            done = self._done[rung]
            k = int(len(done) / self.eta)
            if k < 1:
                continue
            for config_id in self.top(done, rung, k):
                if config_id in self._promoted[rung]:
                    continue
                if not math.isfinite(self.results[(config_id, rung)]):
                    break
                self._promoted[rung].add(config_id)
                return (config_id, rung + 1, 0)
        return (self._new_config(), 0, 0)

    def _learn(self, info: MFTrialInfo, cost: float) -> None:
        self._done[info.rung].append(info.config_id)
        if info.rung > 0:
            self._promoted[info.rung - 1].add(info.config_id)
