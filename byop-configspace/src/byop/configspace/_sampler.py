"""`ConfigSpaceSampler`: configurations drawn by ConfigSpace."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from byop.configspace._parser import is_configuration_space, plain_value, to_configspace
from byop.pipeline import Space


class ConfigSpaceSampler:
    """Samples with ConfigSpace, from byop's `Space` or from a native ``ConfigurationSpace``.

    byop's space (or a dictionary written the byop way) is converted with `to_configspace`;
    a ``ConfigurationSpace`` is sampled as it is, from a copy, so that its own random state is
    left alone. Configurations are plain dictionaries of Python values with only the active
    hyperparameters. The same seed gives the same sequence.

    Use it as ``RandomSearch(space=..., sampler=ConfigSpaceSampler)`` (the class or an
    instance). It is also registered as the sampler ``"configspace"``, which random search
    picks by default for a ``ConfigurationSpace``.

    Example:
        ```python
        from byop.configspace import ConfigSpaceSampler
        from byop.pipeline import searchable

        space = searchable("s", space={"x": (-10.0, 10.0), "k": ["a", "b"]}).space()
        sampler = ConfigSpaceSampler()
        assert sampler.sample(space, seed=3) == sampler.sample(space, seed=3)
        ```
    """

    BATCH: ClassVar[int] = 64
    """How many configurations ConfigSpace draws at once."""

    @classmethod
    def supports(cls, space: Any) -> bool:
        """Whether ``space`` is byop's `Space`, a byop dictionary or a ``ConfigurationSpace``."""
        return isinstance(space, Space | Mapping) or is_configuration_space(space)

    def sample(self, space: Any, seed: int) -> dict[str, Any]:
        """One configuration for ``seed``."""
        return next(self.stream(space, seed))

    def stream(self, space: Any, seed: int) -> Iterator[dict[str, Any]]:
        """Configurations from a ``ConfigurationSpace`` seeded with ``seed``, drawn in batches."""
        if is_configuration_space(space):
            cs = copy.deepcopy(space)
            order: tuple[str, ...] | None = None
        else:
            byop_space = Space.from_dict(space)
            cs = to_configspace(byop_space)
            order = byop_space.names
        cs.seed(seed)
        while True:
            batch = cs.sample_configuration(self.BATCH)
            for configuration in batch:
                values = {k: plain_value(v) for k, v in configuration.items()}
                if order is not None:
                    values = {name: values[name] for name in order if name in values}
                yield values

    def __repr__(self) -> str:
        return "ConfigSpaceSampler()"
