"""The examples in the docstrings of byop.history, byop.cli and optimize() run as written."""

from __future__ import annotations

import inspect
import re
import textwrap

import pytest

import byop.cli
import byop.history
from byop.optimization import optimize

_FENCE = re.compile(r"```python\n(?P<code>.*?)```", re.DOTALL)


def _examples():
    objects = [byop.history, byop.cli, optimize]
    for module in (byop.history,):
        objects += [getattr(module, name) for name in module.__all__]
    seen = set()
    for obj in objects:
        members = [obj]
        if inspect.isclass(obj):
            members += [m for _, m in inspect.getmembers(obj) if inspect.isfunction(m)]
        for member in members:
            doc = inspect.getdoc(member) or ""
            for n, match in enumerate(_FENCE.finditer(doc)):
                code = textwrap.dedent(match.group("code"))
                name = getattr(member, "__qualname__", getattr(member, "__name__", "?"))
                if code not in seen:
                    seen.add(code)
                    yield pytest.param(code, id=f"{name}-{n}")


EXAMPLES = list(_examples())


def test_there_are_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("code", EXAMPLES)
def test_docstring_example_runs(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<docstring>", "exec"), {"__name__": "__main__"})
