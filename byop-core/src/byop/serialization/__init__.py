"""Serialising byop's objects to JSON through one cattrs converter.

Trials and reports (with exceptions and tracebacks) round-trip through `dumps` and `loads`;
nothing read is ever imported or executed.

Example:
    ```python
    from byop.optimization import Report, Trial
    from byop.serialization import dumps, loads

    trial = Trial(name="t", config={"x": 1.0})
    report = trial.success(cost=1.0)
    assert loads(dumps(report), Report) == report
    ```
"""

from __future__ import annotations

from byop.serialization._converter import (
    SerializationError,
    converter,
    dumps,
    loads,
    plain,
    register_type,
    structure,
    structure_exception,
    unstructure,
    unstructure_exception,
)
from byop.serialization._json import NON_FINITE_KEY, from_json, to_json
from byop.serialization._typed import typed_plain

__all__ = [
    "NON_FINITE_KEY",
    "SerializationError",
    "converter",
    "dumps",
    "from_json",
    "loads",
    "plain",
    "register_type",
    "structure",
    "structure_exception",
    "to_json",
    "typed_plain",
    "unstructure",
    "unstructure_exception",
]
