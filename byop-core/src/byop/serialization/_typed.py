"""Values as plain JSON data that keeps their types: how a run's header records its space."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from byop.serialization._converter import plain

_JSON = (bool, int, float, str)


def typed_plain(value: Any) -> Any:
    """``value`` as plain JSON data that keeps the type of attrs objects.

    attrs objects become ``{"type": ClassName, <public fields>}``, so that, for instance, a
    `Float` range and an `Integer` range with the same bounds come out differently; mappings
    and sequences are walked; numbers, strings and numpy values are plain data. Any other
    object is recorded by its type only (``{"type": "module.Class"}``), never by a ``repr``
    that would differ from one process to the next.

    Example:
        ```python
        from byop.pipeline import Float, Integer
        from byop.serialization import typed_plain

        assert typed_plain(Float(0, 1)) != typed_plain(Integer(0, 1))
        assert typed_plain({"lock": object()}) == {"lock": {"type": "builtins.object"}}
        ```
    """
    if value is None or isinstance(value, _JSON):
        return value
    cls = type(value)
    if attrs.has(cls):
        out: dict[str, Any] = {"type": cls.__name__}
        for f in attrs.fields(cls):
            if not f.name.startswith("_"):
                out[f.name] = typed_plain(getattr(value, f.name))
        return out
    if isinstance(value, Mapping):
        return {str(k): typed_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed_plain(v) for v in value]
    if hasattr(value, "tolist") or hasattr(value, "item"):
        return plain(value)  # numpy scalars and arrays
    return {"type": f"{cls.__module__}.{cls.__qualname__}"}
