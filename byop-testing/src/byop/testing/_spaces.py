"""Spaces and a deterministic objective that the conformance suites use."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from byop.pipeline import Categorical, Condition, Constant, Float, Integer, Space


def mixed_space() -> Space:
    """A space with every kind of hyperparameter: float, log float, integer, choice, constant."""
    kinds: list[Any] = ["a", "b", "c"]
    return Space(
        [
            Float(-5.0, 5.0, name="x"),
            Float(1e-4, 1.0, log=True, name="lr"),
            Integer(1, 16, name="n"),
            Categorical(kinds, name="kind"),
            Constant("fixed", name="const"),
        ]
    )


def conditional_space() -> Space:
    """A space where ``momentum`` is active only when ``optimizer`` is ``"sgd"``."""
    optimizers: list[Any] = ["sgd", "adam"]
    when: list[Any] = ["sgd"]
    return Space(
        [
            Categorical(optimizers, name="optimizer"),
            Float(0.0, 0.99, name="momentum"),
            Float(1e-4, 1e-1, log=True, name="lr"),
        ],
        conditions=[Condition("momentum", "optimizer", when)],
    )


def cost_of(config: Mapping[str, Any]) -> float:
    """A deterministic cost for any configuration: same config, same cost."""
    total = 0.0
    for name in sorted(config):
        value = config[name]
        if isinstance(value, bool) or value is None:
            total += 0.5 if value else 0.0
        elif isinstance(value, int | float):
            total += (float(value) - 0.3) ** 2
        else:
            total += sum(ord(ch) for ch in str(value)) % 7 / 7.0
    return math.log1p(total)
