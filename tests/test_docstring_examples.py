"""Every example in a public docstring of byop runs as written.

The examples of each package's public names (its module, what its ``__all__`` lists, and their
methods and properties) are collected and run in this process, each in a fresh namespace and a
fresh working directory. byop.dask and byop.ray run theirs in their own tests, beside the
clusters they need.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

MODULES = [
    "byop.optimization",
    "byop.pipeline",
    "byop.plugins",
    "byop.scheduling",
    "byop.serialization",
    "byop.history",
    "byop.visualization",
    "byop.cli",
    "byop.testing",
    "byop.configspace",
    "byop.optuna",
    "byop.smac",
    "byop.dashboard",
]
_FENCE = re.compile(r"```python\n(?P<code>.*?)```", re.DOTALL)


def _documented(module: Any) -> Iterator[Any]:
    yield module
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        yield obj
        if inspect.isclass(obj):
            for _, member in inspect.getmembers(obj):
                if inspect.isfunction(member) or isinstance(member, property):
                    yield member


def _examples() -> Iterator[Any]:
    seen: set[str] = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for obj in _documented(module):
            doc = inspect.getdoc(obj) or ""
            for n, match in enumerate(_FENCE.finditer(doc)):
                code = textwrap.dedent(match.group("code"))
                if code in seen:  # a method inherited, or documented twice
                    continue
                seen.add(code)
                name = getattr(obj, "__qualname__", None) or module_name
                yield pytest.param(code, id=f"{module_name}:{name}-{n}")


EXAMPLES = list(_examples())


def test_every_package_has_examples():
    found = {p.id.split(":")[0] for p in EXAMPLES}
    assert found == set(MODULES)


@pytest.mark.parametrize("code", EXAMPLES)
def test_docstring_example_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<docstring>", "exec"), {"__name__": "__main__"})
