"""byop's `Space` as Optuna distributions."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from byop.pipeline import Categorical, Constant, Float, Integer, InvalidSpaceError, Space
from byop.plugins import import_optional

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

INSTALL = "byop[optuna]"

_CHOICE_TYPES = (type(None), bool, int, float, str)


def optuna_module() -> ModuleType:
    """``optuna``, imported on first use, or an error naming what to install."""
    return import_optional("optuna", install=INSTALL, feature="byop.optuna")


def to_optuna(space: Space | Mapping[str, Any]) -> dict[str, BaseDistribution]:
    """Convert byop's space to a dictionary of Optuna distributions, for ``study.ask``.

    Ranges become ``FloatDistribution`` / ``IntDistribution`` (log scale kept), choices
    ``CategoricalDistribution``, and a constant a ``CategoricalDistribution`` of its one value.

    Optuna's distributions cannot carry everything byop's space can:

    - **weights** of a choice are dropped (Optuna's samplers take no prior weights); a
      ``UserWarning`` says so;
    - **defaults** are dropped (Optuna has none; enqueue a trial to start from one);
    - **conditions** and **forbidden** combinations are not in a distribution dictionary:
      `OptunaOptimizer` builds each trial define-by-run instead, suggesting only the active
      hyperparameters, parents first, and skipping forbidden combinations.

    This is the space parser registered as ``"optuna"``: ``searchable(...).space(parser="optuna")``.

    Raises:
        InvalidSpaceError: A choice or constant holds a value Optuna cannot store (it takes
            ``None``, ``bool``, ``int``, ``float`` and ``str``).

    Example:
        ```python
        from byop.optuna import to_optuna
        from byop.pipeline import Float, searchable

        s = searchable("s", space={"lr": Float(1e-4, 1e-1, log=True), "depth": (1, 8)})
        distributions = to_optuna(s.space())
        assert distributions["lr"].log and distributions["depth"].high == 8
        ```
    """
    byop_space = Space.from_dict(space)
    dist = optuna_module().distributions
    out: dict[str, BaseDistribution] = {}
    for hp in byop_space.hyperparameters:
        if isinstance(hp, Float):
            out[hp.name] = dist.FloatDistribution(hp.lower, hp.upper, log=hp.log)
        elif isinstance(hp, Integer):
            out[hp.name] = dist.IntDistribution(hp.lower, hp.upper, log=hp.log)
        elif isinstance(hp, Categorical):
            _check_choices(hp.name, hp.choices)
            if hp.weights is not None:
                warnings.warn(
                    f"Optuna's samplers take no weights for choices: the weights of {hp.name!r} "
                    "are ignored.",
                    UserWarning,
                    stacklevel=2,
                )
            out[hp.name] = dist.CategoricalDistribution(list(hp.choices))
        elif isinstance(hp, Constant):
            _check_choices(hp.name, (hp.value,))
            out[hp.name] = dist.CategoricalDistribution([hp.value])
    return out


def _check_choices(name: str, choices: tuple[Any, ...]) -> None:
    for choice in choices:
        if not isinstance(choice, _CHOICE_TYPES):
            raise InvalidSpaceError(
                f"{name!r}: Optuna stores choices of None, bool, int, float or str, not "
                f"{type(choice).__name__} {choice!r}. Choose between names and map them to "
                "objects in your objective."
            )
