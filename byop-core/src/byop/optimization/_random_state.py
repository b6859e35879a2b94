"""`IsolatedRandomState`: a library's draws from the global generators, on a stream of its own."""

from __future__ import annotations

import os
import random
import sys
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from byop.optimization._optimizer import as_seed

_SWAP = threading.RLock()  # one swap of the global generators at a time, across optimizers
_TORCH_DEFAULT_SEED = 67280421310721  # torch's global generator's seed at import

GENERATORS = ("python", "numpy", "torch")
"""The global generators `IsolatedRandomState` can isolate: all of them by default."""


class IsolatedRandomState:
    """Seeds the global random generators for the code inside a ``with`` block, and only there.

    Some optimization libraries draw from Python's ``random``, numpy's ``np.random`` and
    torch's global generator instead of taking a seed. Wrapping each call into such a library
    in ``with state:`` makes those draws reproducible for a seed, and leaves the user's own
    global generators exactly as they were: on entry the global states are saved and this
    object's states put in their place; on exit this object keeps where its streams got to and
    the saved states go back.

    The streams start where ``random.seed(seed)``, ``np.random.seed(seed)`` and
    ``torch.manual_seed(seed)`` would put the global generators, so a library run under
    ``IsolatedRandomState(s)`` asks what it asks after seeding those three with ``s``. Torch's
    CPU generator is included when torch has been imported (import it before the first block);
    CUDA generators are not touched. Swapping global state is not thread-safe for other code
    drawing from the same generators at the same time: blocks of several optimizers exclude
    each other, other threads are not stopped.

    A swap costs about 0.2 ms, nearly all of it numpy's (its ``get_state`` and ``set_state``
    copy the 624 words of its Mersenne Twister one at a time): nothing beside a real
    objective, but a large share of a call that itself takes a fraction of a millisecond. A
    library known to draw from some of the generators only can name them in ``generators``;
    the others are then neither swapped nor isolated.

    Args:
        seed: The seed; ``None`` draws one from the operating system.
        generators: Which global generators to isolate: some of ``"python"``, ``"numpy"``
            and ``"torch"`` (all three by default).

    Raises:
        ValueError: ``generators`` is empty or names another generator.

    Example:
        ```python
        import random

        from byop.optimization import IsolatedRandomState

        random.seed(1)
        expected = random.random()
        random.seed(1)
        state = IsolatedRandomState(seed=7)
        with state:
            first = random.random()
        assert random.random() == expected  # the user's stream did not move
        with IsolatedRandomState(seed=7):
            assert random.random() == first  # same seed, same draws
        ```
    """

    def __init__(self, seed: int | None = None, *, generators: Iterable[str] = GENERATORS) -> None:
        checked = as_seed(seed)
        if checked is None:
            checked = int.from_bytes(os.urandom(4), "little")
        seed = checked
        self.seed = seed
        if isinstance(generators, str):
            generators = (generators,)
        chosen = frozenset(generators)
        unknown = sorted(chosen - set(GENERATORS))
        if unknown or not chosen:
            raise ValueError(
                f"generators are some of {list(GENERATORS)}, got {sorted(chosen) or 'none'}"
                + (f" ({unknown} unknown)." if unknown else ".")
            )
        self.generators = tuple(g for g in GENERATORS if g in chosen)
        self._python: Any = random.Random(seed).getstate() if "python" in chosen else None
        self._numpy: Any = None
        if "numpy" in chosen:
            import numpy as np

            self._numpy = np.random.RandomState(seed % 2**32).get_state()
        self._torch: Any = None  # made on first entry with torch imported
        self._saved: list[tuple[Any, Any, Any]] = []

    def __enter__(self) -> IsolatedRandomState:
        _SWAP.acquire()
        try:
            saved_python = saved_numpy = saved_torch = None
            if self._python is not None:
                saved_python = random.getstate()
            if self._numpy is not None:
                import numpy as np

                saved_numpy = np.random.get_state()
            torch = sys.modules.get("torch") if "torch" in self.generators else None
            if torch is not None:
                saved_torch = torch.random.get_rng_state()
                if self._torch is None:
                    self._torch = torch.Generator().manual_seed(self.seed).get_state()
            self._saved.append((saved_python, saved_numpy, saved_torch))
            if saved_python is not None:
                random.setstate(self._python)
            if saved_numpy is not None:
                np.random.set_state(self._numpy)
            if torch is not None:
                torch.random.set_rng_state(self._torch)
        except BaseException:
            _SWAP.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            python, numpy, saved_torch = self._saved.pop()
            if python is not None:
                self._python = random.getstate()
                random.setstate(python)
            if numpy is not None:
                import numpy as np

                self._numpy = np.random.get_state()
                np.random.set_state(numpy)
            torch = sys.modules.get("torch") if "torch" in self.generators else None
            if torch is not None:
                self._torch = torch.random.get_rng_state()
                if saved_torch is None:
                    # torch was first imported inside the block: its generator goes back to
                    # where a fresh import puts it.
                    torch.manual_seed(_TORCH_DEFAULT_SEED)
                else:
                    torch.random.set_rng_state(saved_torch)
        finally:
            _SWAP.release()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_saved"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("generators", GENERATORS)  # pickled before generators existed
        self._saved = []

    def __repr__(self) -> str:
        if self.generators == GENERATORS:
            return f"IsolatedRandomState(seed={self.seed})"
        return f"IsolatedRandomState(seed={self.seed}, generators={list(self.generators)})"
