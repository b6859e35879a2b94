"""Intermediate results: what `Trial.report_progress` checks, and where its values go."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from byop.optimization._trial import Trial

ProgressLink: TypeAlias = "Callable[[Trial[Any], float, dict[str, Any]], bool]"
"""``link(trial, step, values) -> bool``: carries a trial's progress to where it is judged,
and returns whether the trial should stop (see `Trial.listen`)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_progress(name: str, step: Any, values: Mapping[str, Any]) -> float:
    """``step`` as a number, once it and every value are numbers (else `TypeError`)."""
    if not _is_number(step) or not math.isfinite(step):
        raise TypeError(
            f"Trial {name!r}: report_progress(step, ...) takes the step as a finite number "
            f"(an epoch, a number of samples), got {type(step).__name__} {step!r}."
        )
    for key, value in values.items():
        if not _is_number(value):
            try:
                values_float = float(value)  # numpy scalars and the like
            except (TypeError, ValueError):
                raise TypeError(
                    f"Trial {name!r}: report_progress() values are numbers; {key}= is "
                    f"{type(value).__name__} {value!r:.60}."
                ) from None
            if isinstance(value, bool):
                raise TypeError(f"Trial {name!r}: report_progress() value {key}= is a bool.")
            values[key] = values_float  # type: ignore[index]
    return step  # type: ignore[no-any-return]
