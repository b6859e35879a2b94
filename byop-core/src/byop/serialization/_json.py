"""JSON text that every JSON reader accepts, non-finite floats included.

JSON has no numbers for NaN and the infinities; Python's ``json`` writes them as bare ``NaN``
and ``Infinity``, which other tools (``jq``, JavaScript, most JSON libraries) refuse. byop
writes them as ``{"$numberDouble": "NaN"}``, ``{"$numberDouble": "Infinity"}`` and
``{"$numberDouble": "-Infinity"}`` (the form of MongoDB's extended JSON), and reads them back
as floats; text with bare ``NaN`` and ``Infinity``, as byop wrote it before, reads as well.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

NON_FINITE_KEY = "$numberDouble"
"""The key of the object that stands for a non-finite float."""

_WRITTEN = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_MARKER = NON_FINITE_KEY.encode()


def _name(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else {NON_FINITE_KEY: _name(value)}
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_json(value: Any, *, default: Callable[[Any], Any] | None = None, **options: Any) -> str:
    """``value`` as valid JSON text: non-finite floats as ``{"$numberDouble": "NaN"}`` & co.

    Args:
        value: Plain data (dicts, lists, strings, numbers, booleans, ``None``).
        default: Makes plain data of any other object, as ``json.dumps``'s ``default``.
        **options: For ``json.dumps`` (``separators``, ``sort_keys``...).

    Example:
        ```python
        import json

        from byop.serialization import from_json, to_json

        text = to_json({"cost": float("inf")})
        assert json.loads(text, parse_constant=None) == {"cost": {"$numberDouble": "Infinity"}}
        assert from_json(text) == {"cost": float("inf")}
        ```
    """
    try:
        return json.dumps(value, default=default, allow_nan=False, **options)
    except ValueError:
        pass  # a non-finite float somewhere (rare): write it in the portable form
    if default is not None:
        value = json.loads(json.dumps(value, default=default))  # other objects made plain first
    return json.dumps(_finite(value), allow_nan=False, **options)


def _float_back(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and NON_FINITE_KEY in obj:
        written = obj[NON_FINITE_KEY]
        if isinstance(written, str) and written in _WRITTEN:
            return _WRITTEN[written]
    return obj


def from_json(text: str | bytes) -> Any:
    """Read JSON written by `to_json`: ``{"$numberDouble": ...}`` objects become floats again.

    Raises:
        ValueError: The text is not JSON (``json.JSONDecodeError``), or not UTF-8.
    """
    if isinstance(text, bytes):
        marked = _MARKER in text
        text = text.decode("utf-8")
    else:
        marked = NON_FINITE_KEY in text
    if not marked:
        return json.loads(text)
    return json.loads(text, object_hook=_float_back)
