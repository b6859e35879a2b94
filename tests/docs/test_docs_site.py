"""The docs site: its nav, its strict build, its API reference and its cross-references."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.docblocks import DOCS, ROOT


def _nav_pages() -> set[str]:
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text[text.index("\nnav:") :]
    return set(re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, flags=re.MULTILINE))


def test_every_page_is_in_the_nav():
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages - _nav_pages() == set(), "add these pages to mkdocs.yml's nav"


def test_every_nav_entry_exists():
    missing = {p for p in _nav_pages() if not (DOCS / p).is_file()}
    assert missing == set()


# ------------------------------------------------------------------ the built site
def _reference_script():
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "scripts" / "docs_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # (its main() runs only under mkdocs-gen-files)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built as CI builds it: ``mkdocs build --strict``."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_the_api_reference_has_a_page_for_every_public_module_of_every_package(site):
    modules = _reference_script().public_modules()
    packages = {p.name for p in ROOT.glob("byop-*/src/byop/*") if p.is_dir() and p.name[0] != "_"}
    packages.discard("__pycache__")
    assert {m.split(".")[1] for m in modules} == packages
    assert "byop.optimization.trial" in modules  # a public module inside a package
    assert not [m for m in modules if any(part.startswith("_") for part in m.split("."))]
    for name in modules:
        module = importlib.import_module(name)
        html = (site / "reference" / Path(*name.split(".")) / "index.html").read_text()
        anchors = set(re.findall(r'id="([^"]+)"', html))
        missing = [n for n in getattr(module, "__all__", []) if f"{name}.{n}" not in anchors]
        assert not missing, f"the reference page of {name} does not document {missing}"


def test_every_cross_reference_is_a_link(site):
    # `[History][byop.history.History]` left as text means autorefs could not resolve it.
    literal = re.compile(r"\]\[byop\.[\w.]*\]")
    left = {
        str(page.relative_to(site)): literal.findall(page.read_text())
        for page in site.rglob("*.html")
        if literal.search(page.read_text())
    }
    assert left == {}
    guide = (site / "guides" / "optimization" / "index.html").read_text()
    assert 'href="../../reference/byop/optimization/#byop.optimization.Trial.Task"' in guide


def test_docs_blocks_are_run_by_the_tests_only():
    # One mechanism runs the docs' code: tests/docs and tests/guide. Nothing executes blocks
    # while the site builds, so a markdown-exec `exec` attribute would promise output that
    # never appears.
    executed = [
        f"{page.relative_to(DOCS)}:{n}"
        for page in DOCS.rglob("*.md")
        for n, line in enumerate(page.read_text().splitlines(), 1)
        if line.lstrip().startswith("```") and re.search(r"\bexec=", line)
    ]
    assert executed == []
