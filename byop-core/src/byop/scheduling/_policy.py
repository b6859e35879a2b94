"""What happens when a callback raises, or a task's call raises and nobody handles it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeAlias


class Action(StrEnum):
    """What to do with an exception.

    - ``RAISE``: stop the run at once and raise the exception from ``run()``.
    - ``END``: end the run (``run()`` returns `ExitStatus.ERROR`); the exception is kept in
      ``scheduler.errors``.
    - ``CONTINUE``: keep it in ``scheduler.errors``, log it, and go on.
    """

    RAISE = "raise"
    END = "end"
    CONTINUE = "continue"


PolicyLike: TypeAlias = "Action | str | Mapping[type[BaseException], Action | str]"
"""One action for every exception, or a mapping from exception types to actions.

In a mapping, the most specific type that matches the exception's class wins; an exception
that matches none is raised.
"""


class FailurePolicy:
    """Maps exceptions to an `Action`, by the most specific matching type.

    Example:
        ```python
        from byop.scheduling import Action, FailurePolicy

        policy = FailurePolicy({ValueError: "continue", Exception: "end"})
        assert policy.action(KeyError("k")) is Action.END
        assert policy.action(ValueError("v")) is Action.CONTINUE
        ```
    """

    def __init__(self, policy: PolicyLike) -> None:
        if isinstance(policy, Mapping):
            self._map = {t: Action(a) for t, a in policy.items()}
            for t in self._map:
                if not (isinstance(t, type) and issubclass(t, BaseException)):
                    raise TypeError(f"Failure policy keys are exception types, got {t!r}.")
        else:
            self._map = {BaseException: Action(policy)}

    def action(self, error: BaseException) -> Action:
        """The action for ``error``."""
        for cls in type(error).__mro__:
            if cls in self._map:
                return self._map[cls]
        return Action.RAISE

    def __repr__(self) -> str:
        inner = ", ".join(f"{t.__name__}: {a.value!r}" for t, a in self._map.items())
        return f"FailurePolicy({{{inner}}})"
