"""Samplers: turning a space and a seed into configurations."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from byop.pipeline._errors import InvalidSpaceError
from byop.pipeline._hyperparameters import Categorical, Constant, Float, Integer
from byop.pipeline._space import Space

if TYPE_CHECKING:
    import numpy as np

SampleFunction = Callable[[Any, int], Any]
"""A function ``(space, seed) -> config``, usable wherever a sampler is."""


@runtime_checkable
class Sampler(Protocol):
    """Draws configurations from a space, deterministically for a given seed.

    A sampler class is created with no arguments. byop's own sampler handles byop's `Space`
    (and dictionaries, read with `Space.from_dict`); plugins add samplers for other spaces,
    registered through the ``register_samplers`` hook.
    """

    @classmethod
    def supports(cls, space: Any) -> bool:
        """Whether this sampler can sample from ``space``."""
        ...

    def sample(self, space: Any, seed: int) -> dict[str, Any]:
        """One configuration; the same ``seed`` always gives the same one."""
        ...

    def stream(self, space: Any, seed: int) -> Iterator[dict[str, Any]]:
        """Endless configurations; the same ``seed`` always gives the same sequence."""
        ...


class FunctionSampler:
    """Makes a function ``(space, seed) -> config`` a `Sampler`.

    The function receives the space exactly as it was given, and a fresh ``int`` seed per
    configuration, drawn from a generator seeded with the stream's seed.
    """

    def __init__(self, function: SampleFunction) -> None:
        self.function = function

    @classmethod
    def supports(cls, space: Any) -> bool:
        """A function decides for itself what it accepts."""
        return True

    def sample(self, space: Any, seed: int) -> dict[str, Any]:
        """Call the function once."""
        config = self.function(space, seed)
        if not isinstance(config, Mapping):
            name = getattr(self.function, "__qualname__", repr(self.function))
            raise TypeError(
                f"Sampling function {name} returned {type(config).__name__}, not a dict of "
                "hyperparameter values."
            )
        return dict(config)

    def stream(self, space: Any, seed: int) -> Iterator[dict[str, Any]]:
        """Call the function with a new derived seed for each configuration."""
        import numpy as np

        seeds = np.random.default_rng(seed)
        while True:
            for s in seeds.integers(0, 2**31 - 1, size=256).tolist():
                yield self.sample(space, s)

    def __repr__(self) -> str:
        return f"FunctionSampler({getattr(self.function, '__qualname__', self.function)!r})"


class NumpySampler:
    """byop's own sampler for its `Space`, on numpy's random generator.

    Log-scaled ranges are sampled uniformly in log space; integers uniformly over the integers
    of their range; weighted choices by their weights. Conditions drop inactive values and
    forbidden combinations are drawn again. An empty space gives empty configurations.

    Example:
        ```python
        from byop.pipeline import NumpySampler, Space

        space = Space.from_dict({"x": (0.0, 1.0), "c": ["a", "b"]})
        assert NumpySampler().sample(space, 7) == NumpySampler().sample(space, 7)
        ```
    """

    BATCH: ClassVar[int] = 256
    """How many values of each hyperparameter are drawn at once."""

    MAX_FORBIDDEN_REDRAWS: ClassVar[int] = 1000

    @classmethod
    def supports(cls, space: Any) -> bool:
        """Byop's `Space` and dictionaries written the byop way."""
        return isinstance(space, Space | dict)

    def sample(self, space: Any, seed: int) -> dict[str, Any]:
        """One configuration for ``seed``."""
        return next(self.stream(space, seed))

    def stream(self, space: Any, seed: int) -> Iterator[dict[str, Any]]:
        """Configurations drawn in batches from one generator seeded with ``seed``."""
        import numpy as np

        space = Space.from_dict(space)
        if not space.hyperparameters:
            # An empty space has one configuration, the empty one (zip would yield none).
            while True:
                yield {}
        rng = np.random.default_rng(seed)
        names = space.names
        needs_filter = bool(space.conditions or space.forbidden)
        redraws = 0
        while True:
            columns = [_draw(hp, rng, self.BATCH) for hp in space.hyperparameters]
            for row in zip(*columns, strict=True):
                config = dict(zip(names, row, strict=True))
                if needs_filter:
                    config = space.active(config)
                    if space.is_forbidden(config):
                        redraws += 1
                        if redraws > self.MAX_FORBIDDEN_REDRAWS:
                            raise InvalidSpaceError(
                                f"Drew {redraws} forbidden configurations in a row; the "
                                "forbidden clauses may exclude the whole space."
                            )
                        continue
                    redraws = 0
                yield config


def _draw(
    hp: Float | Integer | Categorical | Constant, rng: np.random.Generator, n: int
) -> list[Any]:
    if isinstance(hp, Float):
        if hp.log:
            values = rng.uniform(math.log(hp.lower), math.log(hp.upper), n)
            import numpy as np

            out: list[Any] = np.clip(np.exp(values), hp.lower, hp.upper).tolist()
            return out
        return rng.uniform(hp.lower, hp.upper, n).tolist()  # type: ignore[no-any-return]
    if isinstance(hp, Integer):
        if hp.log:
            import numpy as np

            values = rng.uniform(math.log(hp.lower - 0.5 + 1e-9), math.log(hp.upper + 0.5), n)
            ints = np.clip(np.rint(np.exp(values)), hp.lower, hp.upper).astype(np.int64)
            return ints.tolist()  # type: ignore[no-any-return]
        return rng.integers(hp.lower, hp.upper + 1, n).tolist()  # type: ignore[no-any-return]
    if isinstance(hp, Categorical):
        probabilities = None if hp.weights is None else list(hp.probabilities)
        indices = rng.choice(len(hp.choices), size=n, p=probabilities).tolist()
        return [hp.choices[i] for i in indices]
    return [hp.value] * n


def as_sampler(sampler: Any) -> Sampler:
    """An instance of a `Sampler` from a sampler class, instance, or ``(space, seed)`` function."""
    if isinstance(sampler, type):
        instance = sampler()
        if not isinstance(instance, Sampler):
            raise TypeError(
                f"{sampler.__qualname__} is not a sampler: it needs supports(space), "
                "sample(space, seed) and stream(space, seed)."
            )
        return instance
    if isinstance(sampler, Sampler):
        return sampler
    if callable(sampler):
        return FunctionSampler(sampler)
    raise TypeError(
        f"sampler= takes a Sampler class or instance, or a function (space, seed) -> config; "
        f"got {type(sampler).__name__}."
    )


def sampler_for(space: Any) -> Sampler:
    """The first registered sampler that supports ``space`` (byop's own for its `Space`)."""
    from byop.plugins import registry

    registered = registry("samplers")
    for registration in registered.values():
        cls = registration.obj
        if cls.supports(space):
            return as_sampler(cls)
    kind = f"{type(space).__module__}.{type(space).__qualname__}"
    hint = ""
    if type(space).__module__.startswith("ConfigSpace"):
        hint = " Install byop's ConfigSpace integration: pip install byop[configspace]."
    raise InvalidSpaceError(
        f"No registered sampler can sample a {kind}; registered samplers: "
        f"{sorted(registered)}.{hint} Or pass sampler= a function (space, seed) -> config."
    )
