"""Generate the docs site's API reference: one page per public module of every byop package.

Run by mkdocs-gen-files while the site builds (``mkdocs.yml``); nothing is written to ``docs/``.
A public module is one whose dotted path has no part starting with ``_``, found by walking
``byop-*/src/byop``: so a new package or a new public module gets its page without anyone
writing one. Each page is a single mkdocstrings directive (``::: byop.x``) that renders the
module's docstring and the names its ``__all__`` lists; ``reference/SUMMARY.md`` is the
section's navigation, read by mkdocs-literate-nav.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def public_modules(root: Path = ROOT) -> list[str]:
    """The dotted names of every public module of every package under ``root/byop-*/src``."""
    names: set[str] = set()
    for src in sorted(root.glob("byop-*/src")):
        for path in sorted(src.rglob("*.py")):
            parts = path.relative_to(src).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if len(parts) < 2 or any(p.startswith("_") for p in parts):
                continue  # the bare `byop` namespace has no module; private ones are not API
            names.add(".".join(parts))
    return sorted(names)


def pages(root: Path = ROOT) -> dict[str, str]:
    """The reference pages, ``{path under docs/: markdown}``, with the section's SUMMARY.md."""
    out: dict[str, str] = {}
    summary = []
    for name in public_modules(root):
        path = "reference/" + name.replace(".", "/") + ".md"
        out[path] = f"# `{name}`\n\n::: {name}\n"
        summary.append(f"* [{name}]({path.removeprefix('reference/')})")
    out["reference/SUMMARY.md"] = "\n".join(summary) + "\n"
    return out


def main() -> None:
    """Write the pages into the site being built (mkdocs-gen-files' virtual files)."""
    import mkdocs_gen_files

    for path, text in pages().items():
        with mkdocs_gen_files.open(path, "w") as f:
            f.write(text)
        if path != "reference/SUMMARY.md":
            module = path.removeprefix("reference/").removesuffix(".md").replace("/", ".")
            mkdocs_gen_files.set_edit_path(path, _source_of(module))


def _source_of(module: str) -> Path:
    """The source file of ``module``, relative to the repository (for the edit link)."""
    rel = Path(*module.split("."))
    for src in sorted(ROOT.glob("byop-*/src")):
        for candidate in (src / rel / "__init__.py", (src / rel).with_suffix(".py")):
            if candidate.is_file():
                return Path("..") / candidate.relative_to(ROOT)
    raise LookupError(module)


if __name__ in {"__main__", "<run_path>"}:  # mkdocs-gen-files runs it with runpy.run_path
    main()
