"""The conformance suite every sampler plugin runs."""

from __future__ import annotations

import itertools
import threading
from typing import Any, ClassVar

import pytest

from byop.pipeline import Float, Sampler, Space, as_sampler
from byop.testing._spaces import conditional_space, mixed_space


class SamplerConformance:
    """A pytest base class for samplers: subclass it and set ``sampler``.

    Example:
        ```python
        from byop.pipeline import NumpySampler
        from byop.testing import SamplerConformance

        class TestNumpySampler(SamplerConformance):
            sampler = NumpySampler
        ```

    Attributes:
        sampler: The sampler class (or instance) under test.
        space: The space sampled (by default every kind of hyperparameter); it needs one float
            range, for the test that the stream does not repeat itself.
        conditional_space: The space of the conditional test.
        supports_conditions: Whether inactive hyperparameters are left out.
    """

    sampler: ClassVar[Any] = None
    space: ClassVar[Space] = mixed_space()
    conditional_space: ClassVar[Space] = conditional_space()
    supports_conditions: ClassVar[bool] = True

    def _sampler(self) -> Sampler:
        if self.sampler is None:
            raise TypeError(f"{type(self).__name__} must set sampler to a sampler class.")
        return as_sampler(self.sampler)

    def _take(self, space: Any, seed: int, n: int) -> list[dict[str, Any]]:
        return list(itertools.islice(self._sampler().stream(space, seed), n))

    def test_supports_the_space(self) -> None:
        assert self._sampler().supports(self.space)

    def test_samples_are_valid_plain_configurations(self) -> None:
        for config in self._take(self.space, 1, 300):
            self.space.validate(config)
            assert set(config) == set(self.space.active(config)), config
            for value in config.values():
                assert type(value).__module__ == "builtins", f"{value!r} is not plain Python"

    def test_same_seed_same_sequence(self) -> None:
        assert self._take(self.space, 2, 300) == self._take(self.space, 2, 300)
        assert self._sampler().sample(self.space, 2) == self._sampler().sample(self.space, 2)

    def test_other_seed_other_sequence(self) -> None:
        assert self._take(self.space, 3, 20) != self._take(self.space, 4, 20)

    def test_stream_does_not_repeat_itself(self) -> None:
        floats = [hp.name for hp in self.space if isinstance(hp, Float)]
        if not floats:
            pytest.skip("the space has no float range to tell repeats by")
        xs = [c.get(floats[0]) for c in self._take(self.space, 5, 600)]
        assert len(set(xs)) > 590

    def test_conditions_leave_inactive_values_out(self) -> None:
        if not self.supports_conditions:
            pytest.skip("the sampler does not claim conditional spaces")
        space = self.conditional_space
        configs = self._take(space, 6, 200)
        for config in configs:
            space.validate(config)
            for condition in space.conditions:
                assert (condition.child in config) == condition.holds(config), config
        for condition in space.conditions:
            seen = {c.get(condition.parent) for c in configs}
            assert any(v in seen for v in condition.values), f"never active: {condition}"
            assert seen - set(condition.values), f"always active: {condition}"

    def test_an_empty_space_gives_empty_configurations(self) -> None:
        taken: list[Any] = []
        thread = threading.Thread(
            target=lambda: taken.extend(self._take(Space([]), 7, 3)), daemon=True
        )
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), "the stream of an empty space hangs"
        assert taken == [{}, {}, {}]
