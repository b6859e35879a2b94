"""Events: named hooks that callbacks subscribe to, bare or with options.

```python
@scheduler.on_start                 # bare
def launch(): ...

@scheduler.on_start(repeat=4)       # with options
def launch_four(): ...
```

Called as a plain function, ``scheduler.on_start(launch, repeat=4)``, an event takes the same
options. Options on every subscription:

- ``repeat=n``: call the callback ``n`` times for each emission;
- ``max_calls=n``: stop calling it after ``n`` calls;
- ``when=predicate``: call it only when ``predicate(*args)`` is true;
- ``every=n``: call it only on every ``n``-th emission (the n-th, 2n-th, ...).

Callbacks of one event run in the order they were subscribed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Generic, ParamSpec, Protocol, overload

P = ParamSpec("P")


class Subscription(Generic[P]):
    """One callback subscribed to an event, with its options."""

    __slots__ = ("_seen", "callback", "calls", "every", "max_calls", "repeat", "when")

    def __init__(
        self,
        callback: Callable[P, Any],
        *,
        repeat: int = 1,
        max_calls: int | None = None,
        when: Callable[P, bool] | None = None,
        every: int = 1,
    ) -> None:
        if repeat < 1:
            raise ValueError(f"repeat must be >= 1, got {repeat}.")
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}.")
        if max_calls is not None and max_calls < 0:
            raise ValueError(f"max_calls must be >= 0, got {max_calls}.")
        self.callback = callback
        self.repeat = repeat
        self.max_calls = max_calls
        self.when = when
        self.every = every
        self.calls = 0
        self._seen = 0

    @property
    def plain(self) -> bool:
        """Whether the subscription has no options (the fast path)."""
        return self.repeat == 1 and self.max_calls is None and self.when is None and self.every == 1

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        self._seen += 1
        if self.every > 1 and self._seen % self.every:
            return
        if self.when is not None and not self.when(*args, **kwargs):
            return
        for _ in range(self.repeat):
            if self.max_calls is not None and self.calls >= self.max_calls:
                return
            self.calls += 1
            self.callback(*args, **kwargs)

    def __repr__(self) -> str:
        name = getattr(self.callback, "__qualname__", repr(self.callback))
        return f"Subscription({name})"


class CallbackErrorHandler(Protocol):
    """Decides what an exception raised by a callback does (the scheduler's failure policy)."""

    def __call__(self, event: Event[Any], callback: Callable[..., Any], error: Exception) -> None:
        """Handle ``error``; re-raise it to end the emission."""
        ...


def _reraise(event: Event[Any], callback: Callable[..., Any], error: Exception) -> None:
    raise error


handler: ContextVar[CallbackErrorHandler] = ContextVar("byop_callback_errors", default=_reraise)
"""The handler of callback exceptions in this context; a running scheduler sets its own."""


class Event(Generic[P]):
    """A named event of a scheduler or task. Subscribe by using it as a decorator.

    Args:
        name: The event's name, e.g. ``"on_report"``; unique among its owner's events.
        description: What the event means and what its callbacks receive.
    """

    __slots__ = ("_fast", "description", "name", "subscriptions")

    def __init__(self, name: str, description: str = "") -> None:
        self.name = name
        self.description = description
        self.subscriptions: list[Subscription[P]] = []
        self._fast: list[Callable[..., Any]] = []

    @overload
    def __call__(
        self,
        callback: Callable[P, Any],
        /,
        *,
        repeat: int = 1,
        max_calls: int | None = None,
        when: Callable[P, bool] | None = None,
        every: int = 1,
    ) -> Callable[P, Any]: ...

    @overload
    def __call__(
        self,
        callback: None = None,
        /,
        *,
        repeat: int = 1,
        max_calls: int | None = None,
        when: Callable[P, bool] | None = None,
        every: int = 1,
    ) -> Callable[[Callable[P, Any]], Callable[P, Any]]: ...

    def __call__(
        self,
        callback: Callable[P, Any] | None = None,
        /,
        *,
        repeat: int = 1,
        max_calls: int | None = None,
        when: Callable[P, bool] | None = None,
        every: int = 1,
    ) -> Callable[P, Any] | Callable[[Callable[P, Any]], Callable[P, Any]]:
        """Subscribe ``callback`` with the options; without one, return a decorator that does.

        The three forms are the same subscription: ``@event``, ``@event(repeat=2)`` and
        ``event(fn, repeat=2)``.
        """
        if callback is not None:
            self.subscribe(callback, repeat=repeat, max_calls=max_calls, when=when, every=every)
            return callback

        def decorator(fn: Callable[P, Any]) -> Callable[P, Any]:
            self.subscribe(fn, repeat=repeat, max_calls=max_calls, when=when, every=every)
            return fn

        return decorator

    def subscribe(
        self,
        callback: Callable[P, Any],
        *,
        repeat: int = 1,
        max_calls: int | None = None,
        when: Callable[P, bool] | None = None,
        every: int = 1,
    ) -> Subscription[P]:
        """Subscribe ``callback`` with options; returns the subscription."""
        if not callable(callback):
            raise TypeError(f"{self.name} takes a callable, got {type(callback).__name__}.")
        sub: Subscription[P] = Subscription(
            callback, repeat=repeat, max_calls=max_calls, when=when, every=every
        )
        self.subscriptions.append(sub)
        self._rebuild()
        return sub

    def unsubscribe(self, callback: Callable[..., Any]) -> None:
        """Remove every subscription of ``callback``."""
        self.subscriptions = [s for s in self.subscriptions if s.callback is not callback]
        self._rebuild()

    def _rebuild(self) -> None:
        self._fast = [s.callback if s.plain else s for s in self.subscriptions]

    def __bool__(self) -> bool:
        """Whether anything is subscribed."""
        return bool(self._fast)

    def emit(self, *args: Any) -> None:
        """Call every subscribed callback with ``args``, in subscription order.

        An exception from a callback goes to the running scheduler's failure policy (outside a
        scheduler, it propagates).
        """
        for callback in self._fast:
            try:
                callback(*args)
            except Exception as e:
                handler.get()(self, callback, e)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self.subscriptions)} subscribed)"
