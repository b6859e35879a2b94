"""Reading the python code blocks of the docs, to run them as tests."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>.*)$")
_TAB = re.compile(r'^(?P<indent>\s*)===\s+"(?P<label>[^"]+)"')
_HEADING = re.compile(r"^(#{1,6})\s+(?P<title>.+?)\s*$")
_TITLE = re.compile(r'title="(?P<title>[^"]+)"')
_NOT_RUN = re.compile(r"<!--\s*not run:")
_REQUIRES = re.compile(r"<!--.*?requires:\s*(?P<mods>[\w., ]+?)\s*(?:;|-->)")
_SERVICE = re.compile(r"<!--.*?service:\s*(?P<names>[\w, ]+?)\s*(?:;|-->)")
_FILE = re.compile(r"<!--\s*file:\s*(?P<path>[\w./-]+?)\s*(?:;|-->)")


@dataclass(frozen=True)
class Block:
    """One fenced python block of a docs page."""

    path: Path
    line: int
    section: str
    label: str | None
    code: str
    run: bool
    requires: tuple[str, ...]
    services: tuple[str, ...] = ()
    """Running services the block needs (``<!-- service: slurm -->``), see support.services."""
    file: str | None = None
    """The file of an example project the block is (``<!-- file: path -->``), see `files`."""

    @property
    def id(self) -> str:
        where = self.path.relative_to(DOCS)
        label = f"/{self.label}" if self.label else ""
        return f"{where}:{self.line}:{self.section}{label}"


def blocks(path: Path) -> list[Block]:
    """Every python block of a markdown page, in order."""
    lines = path.read_text().splitlines()
    out: list[Block] = []
    section = ""
    tabs: list[tuple[int, str]] = []  # (indent, label)
    i = 0
    while i < len(lines):
        line = lines[i]
        if (m := _HEADING.match(line)) is not None:
            section = m.group("title")
            tabs = []
        elif (m := _TAB.match(line)) is not None:
            indent = len(m.group("indent"))
            tabs = [t for t in tabs if t[0] < indent] + [(indent, m.group("label"))]
        elif (m := _FENCE.match(line)) is not None and m.group("info").strip().startswith("python"):
            indent = len(m.group("indent"))
            info = m.group("info")
            start = i + 1
            j = start
            while j < len(lines) and not (
                lines[j].strip() == "```" and len(lines[j]) - len(lines[j].lstrip()) == indent
            ):
                j += 1
            code = textwrap.dedent("\n".join(lines[start:j])) + "\n"
            before = _previous_nonblank(lines, i)
            requires: tuple[str, ...] = ()
            if (r := _REQUIRES.search(before)) is not None:
                requires = tuple(x.strip() for x in r.group("mods").split(","))
            needs: tuple[str, ...] = ()
            if (r := _SERVICE.search(before)) is not None:
                needs = tuple(x.strip() for x in r.group("names").split(","))
            label = None
            if (t := _TITLE.search(info)) is not None:
                label = t.group("title")
            else:
                enclosing = [t for t in tabs if t[0] < indent]
                label = enclosing[-1][1] if enclosing else None
            out.append(
                Block(
                    path=path,
                    line=i + 1,
                    section=section,
                    label=label,
                    code=code,
                    run=_NOT_RUN.search(before) is None,
                    requires=requires,
                    services=needs,
                    file=(f.group("path") if (f := _FILE.search(before)) else None),
                )
            )
            i = j
        i += 1
    return out


def _previous_nonblank(lines: list[str], i: int) -> str:
    k = i - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    return lines[k] if k >= 0 else ""


def files(path: Path) -> dict[str, str]:
    """The files of the example project a page spells out: every fenced block, of any language,
    right after a ``<!-- file: relative/path -->`` line, by that path."""
    lines = path.read_text().splitlines()
    out: dict[str, str] = {}
    for i, line in enumerate(lines):
        if (m := _FILE.search(line)) is None:
            continue
        k = i + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        fence = _FENCE.match(lines[k]) if k < len(lines) else None
        if fence is None:
            raise ValueError(f"{path}:{i + 1}: a file marker not followed by a fenced block")
        indent = len(fence.group("indent"))
        end = k + 1
        while end < len(lines) and not (
            lines[end].strip() == "```" and len(lines[end]) - len(lines[end].lstrip()) == indent
        ):
            end += 1
        out[m.group("path")] = textwrap.dedent("\n".join(lines[k + 1 : end])) + "\n"
    return out


def all_blocks() -> list[Block]:
    """Every python block of every docs page."""
    return [b for page in sorted(DOCS.rglob("*.md")) for b in blocks(page)]


def find(page: str, section: str, label: str | None = None, nth: int | None = None) -> Block:
    """The block of ``page`` under heading ``section`` with tab or title ``label``.

    ``nth`` picks among several blocks with the same label (0 for the first).
    """
    found = [
        b
        for b in blocks(DOCS / page)
        if b.section == section and (label is None or b.label == label)
    ]
    if nth is not None and len(found) > nth:
        return found[nth]
    if len(found) != 1:
        raise LookupError(
            f"{len(found)} blocks in {page} under {section!r} labelled {label!r}; expected one"
        )
    return found[0]
