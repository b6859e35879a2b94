"""How messages name a user's function."""

from __future__ import annotations

from typing import Any


def function_label(fn: Any) -> str:
    """A readable name for a function, for messages: ``poly (module __main__)``.

    Example:
        ```python
        from byop.scheduling import function_label

        assert function_label(abs) == "abs (module builtins)"
        ```
    """
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    module = getattr(fn, "__module__", None)
    return f"{name} (module {module})" if module else str(name)
