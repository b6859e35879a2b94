"""Intermediate results: what `Trial.report_progress` checks, and where its values go."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from byop.optimization._trial import Trial

ProgressLink: TypeAlias = "Callable[[Trial[Any], float, dict[str, Any]], bool]"
"""``link(trial, step, values) -> bool``: carries a trial's progress to where it is judged,
and returns whether the trial should stop (see `Trial.listen`)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_progress(name: str, step: Any, values: dict[str, Any]) -> float:
    """``step`` as a plain number, once it and every value are numbers (else `TypeError`).

    Values that are not plain ``int`` or ``float`` (numpy scalars) become ``float`` in
    ``values``, so that they travel as plain data.
    """
    if not _is_number(step) or not math.isfinite(step):
        raise TypeError(
            f"Trial {name!r}: report_progress(step, ...) takes the step as a finite number "
            f"(an epoch, a number of samples), got {type(step).__name__} {step!r}."
        )
    for key, value in values.items():
        if isinstance(value, bool):
            raise TypeError(f"Trial {name!r}: report_progress() value {key}= is a bool.")
        if type(value) is not float and type(value) is not int:
            if not _is_number(value):
                raise TypeError(
                    f"Trial {name!r}: report_progress() values are numbers; {key}= is "
                    f"{type(value).__name__} {value!r:.60}."
                )
            values[key] = float(value)
    if type(step) is not int and type(step) is not float:
        return int(step) if isinstance(step, numbers.Integral) else float(step)
    return step
