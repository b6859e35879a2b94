"""The docs site lists every page, and every page it lists exists."""

from __future__ import annotations

import re

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
