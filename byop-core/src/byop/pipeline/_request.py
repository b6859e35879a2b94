"""`request`: a placeholder in a node's config, filled from ``params`` when it is configured."""

from __future__ import annotations

import enum
from typing import Any

from attrs import frozen


class _Missing(enum.Enum):
    NO_DEFAULT = "<no default>"

    def __repr__(self) -> str:
        return self.value


_NO_DEFAULT: Any = _Missing.NO_DEFAULT


@frozen
class Request:
    """A value a node's config asks for by ``key`` (see `request`)."""

    key: str
    default: Any = _NO_DEFAULT

    @property
    def has_default(self) -> bool:
        """Whether the request has a default for when ``params`` lacks its key."""
        return self.default is not _NO_DEFAULT

    def __repr__(self) -> str:
        if self.has_default:
            return f"request({self.key!r}, default={self.default!r})"
        return f"request({self.key!r})"


def request(key: str, *, default: Any = _NO_DEFAULT) -> Request:
    """A config value that `configure` fills from ``params[key]`` (or ``default``).

    Args:
        key: The name to look up in ``configure(..., params=...)``.
        default: The value when ``params`` lacks ``key``; without one, a missing key is a
            `MissingParamError` naming the node and the key.

    Example:
        ```python
        from byop.pipeline import Component, request

        def model(C=1.0, seed=None):
            return (C, seed)

        node = Component(model, config={"seed": request("seed", default=0)})
        assert node.configure({}, params={"seed": 42}).config == {"seed": 42}
        assert node.configure({}).config == {"seed": 0}
        ```
    """
    if not isinstance(key, str) or not key:
        raise TypeError(f"request() takes a non-empty str key, got {key!r}.")
    return Request(key, default)
