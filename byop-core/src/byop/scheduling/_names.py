"""How messages name a user's function."""

from __future__ import annotations

from typing import Any


def function_label(fn: Any) -> str:
    """A readable name for a function, for messages: ``poly (module __main__)``.

    A wrapper is named by what it wraps (its ``__wrapped__``, as `functools.wraps` and
    `Trial.Task`'s runner set it), so that messages name the user's own function.

    Example:
        ```python
        from byop.scheduling import function_label

        assert function_label(abs) == "abs (module builtins)"
        ```
    """
    for _ in range(16):  # a bounded walk: a wrapper could wrap itself
        inner = getattr(fn, "__wrapped__", None)
        if inner is None or inner is fn:
            break
        fn = inner
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    module = getattr(fn, "__module__", None)
    return f"{name} (module {module})" if module else str(name)
