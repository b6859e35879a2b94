"""byop's `Space` (and declared fidelities) as a NePS ``SearchSpace``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from attrs import frozen

from byop.optimization import Fidelity
from byop.pipeline import Categorical, Constant, Float, Integer, InvalidSpaceError, Space
from byop.plugins import import_optional

if TYPE_CHECKING:
    from neps.space import SearchSpace

INSTALL = "byop[neps]"

Confidence = Literal["low", "medium", "high"]

_PLAIN_CHOICES = (str, int, float)


def neps_module(name: str = "neps") -> ModuleType:
    """A module of NePS, imported on first use, or an error naming what to install."""
    return import_optional(name, install=INSTALL, feature="byop.neps")


@frozen
class NePSSpace:
    """A NePS ``SearchSpace`` made from byop's space, and how to read its configurations back.

    Attributes:
        search_space: The NePS space.
        space: byop's space it was made from.
        fidelity: The declared fidelity NePS varies (``is_fidelity``), if any.
        encoded: For each categorical whose choices NePS cannot hold as they are (``None``,
            booleans, mixed or other types), the choices, which NePS sees by their index.
    """

    search_space: SearchSpace
    space: Space
    fidelity: Fidelity | None
    encoded: Mapping[str, tuple[Any, ...]]

    def config(self, neps_config: Mapping[str, Any]) -> dict[str, Any]:
        """The byop configuration (plain Python values, in the space's order) of NePS's one."""
        out: dict[str, Any] = {}
        for hp in self.space.hyperparameters:
            value = neps_config[hp.name]
            if hp.name in self.encoded:
                value = self.encoded[hp.name][int(value)]
            out[hp.name] = _plain(hp, value)
        return out

    def neps_config(
        self, config: Mapping[str, Any], fidelities: Mapping[str, float]
    ) -> dict[str, Any]:
        """NePS's configuration of byop's one, at the given fidelity (for ``tell_custom``).

        Raises:
            ValueError: A value is not in the space, or the fidelity is missing.
        """
        self.space.validate(config)
        out: dict[str, Any] = {}
        for hp in self.space.hyperparameters:
            value = config[hp.name]
            if hp.name in self.encoded:
                choices = self.encoded[hp.name]
                value = next(
                    i for i, c in enumerate(choices) if c == value and type(c) is type(value)
                )
            out[hp.name] = value
        fidelity = self.fidelity
        if fidelity is not None:
            if fidelity.name not in fidelities:
                raise ValueError(
                    f"The trial carries no value for the fidelity {fidelity.name!r} "
                    f"(it has {dict(fidelities)})."
                )
            value = fidelities[fidelity.name]
            out[fidelity.name] = int(value) if fidelity.integer else float(value)
        return out


def to_neps(
    space: Space | Mapping[str, Any],
    *,
    fidelities: Sequence[Fidelity] = (),
    priors: bool = False,
    prior_confidence: Confidence = "medium",
) -> NePSSpace:
    """Convert byop's space, and the declared fidelity, to a NePS ``SearchSpace``.

    Ranges become ``HPOFloat`` / ``HPOInteger`` (log scale kept), choices ``HPOCategorical``,
    constants (and choices of one value) ``HPOConstant``. A declared `Fidelity` becomes a
    parameter with ``is_fidelity=True``. With ``priors=True``, each hyperparameter's default
    is its NePS ``prior`` (what PriorBand and πBO start from), with ``prior_confidence``.

    Choices of ``str``, ``int`` or ``float`` go to NePS as they are; others (``None``,
    booleans, tuples, mixed types) by their index, and come back as the choices themselves.
    Weights of choices are not NePS priors and are left out.

    Raises:
        InvalidSpaceError: The space has conditions (NePS's spaces have none), or more than one
            fidelity is declared (NePS's algorithms vary one), or a fidelity's name is taken by
            a hyperparameter, or a fidelity is below 0.

    Example:
        ```python
        from byop.neps import to_neps
        from byop.optimization import Fidelity
        from byop.pipeline import Float, searchable

        space = searchable("s", space={"lr": Float(1e-4, 1e-1, log=True), "depth": (1, 8)})
        neps_space = to_neps(space.space(), fidelities=[Fidelity("epochs", 1, 27, integer=True)])
        assert neps_space.search_space.fidelity[0] == "epochs"
        ```
    """
    byop_space = Space.from_dict(space)
    if byop_space.conditions:
        conditional = sorted({c.child for c in byop_space.conditions})
        raise InvalidSpaceError(
            f"NePS's search spaces have no conditions, but {conditional} are conditional. "
            "Use an optimizer that takes conditions (smac, optuna, random_search), or drop the "
            "conditions from the space: every hyperparameter is then always active."
        )
    if len(fidelities) > 1:
        raise InvalidSpaceError(
            f"NePS's algorithms vary one fidelity; {[f.name for f in fidelities]} are declared. "
            "Declare one (e.g. epochs) and derive the others from it in the objective."
        )
    parameters = neps_module("neps.space")
    elements: dict[str, Any] = {}
    encoded: dict[str, tuple[Any, ...]] = {}
    for hp in byop_space.hyperparameters:
        prior = hp.default if priors and not isinstance(hp, Constant) else None
        confidence: dict[str, Any] = {}
        if prior is not None:
            confidence["prior_confidence"] = prior_confidence
        if isinstance(hp, Float):
            elements[hp.name] = parameters.HPOFloat(
                hp.lower, hp.upper, log=hp.log, prior=prior, **confidence
            )
        elif isinstance(hp, Integer):
            elements[hp.name] = parameters.HPOInteger(
                hp.lower, hp.upper, log=hp.log, prior=prior, **confidence
            )
        elif isinstance(hp, Categorical):
            if len(hp.choices) == 1:
                elements[hp.name] = parameters.HPOConstant(hp.choices[0])
                continue
            choices: list[Any] = list(hp.choices)
            if not _plain_choices(choices):
                encoded[hp.name] = hp.choices
                prior = None if prior is None else _index(hp.choices, prior)
                choices = list(range(len(choices)))
            elements[hp.name] = parameters.HPOCategorical(choices, prior=prior, **confidence)
        else:
            elements[hp.name] = parameters.HPOConstant(hp.value)
    fidelity = fidelities[0] if fidelities else None
    if fidelity is not None:
        if fidelity.name in byop_space:
            raise InvalidSpaceError(
                f"The fidelity {fidelity.name!r} has the name of a hyperparameter of the space: "
                "rename one of them."
            )
        if fidelity.low < 0:
            raise InvalidSpaceError(
                f"NePS's fidelities are >= 0; {fidelity.name!r} starts at {fidelity.low}."
            )
        if fidelity.integer:
            elements[fidelity.name] = parameters.HPOInteger(
                int(fidelity.low), int(fidelity.high), log=fidelity.log, is_fidelity=True
            )
        else:
            elements[fidelity.name] = parameters.HPOFloat(
                float(fidelity.low), float(fidelity.high), log=fidelity.log, is_fidelity=True
            )
    return NePSSpace(parameters.SearchSpace(elements), byop_space, fidelity, encoded)


def _plain_choices(choices: list[Any]) -> bool:
    kinds = {type(c) for c in choices}
    if len(kinds) != 1:
        return False
    (kind,) = kinds
    return kind in _PLAIN_CHOICES


def _index(choices: tuple[Any, ...], value: Any) -> int:
    return next(i for i, c in enumerate(choices) if c == value and type(c) is type(value))


def _plain(hp: Any, value: Any) -> Any:
    """A plain Python value of the hyperparameter's kind (NePS may give numpy or torch ones)."""
    # NePS computes in float32 and torch: a value at a bound may come back a hair outside it.
    if isinstance(hp, Float):
        return min(hp.upper, max(hp.lower, float(value)))
    if isinstance(hp, Integer):
        return min(hp.upper, max(hp.lower, round(float(value))))
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value
