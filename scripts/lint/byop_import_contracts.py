"""import-linter contract types of byop's own (loaded by `make lint` through the venv's path).

``private_modules``: no byop distribution imports another distribution's private modules
(a module path with a segment that starts with ``_``), inside functions included. What one
distribution needs of another is public API.
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


def _owner(module: str, groups: dict[str, str]) -> str | None:
    """The distribution whose package holds ``module`` (by the longest package prefix)."""
    owners = [
        (len(package), dist)
        for package, dist in groups.items()
        if module == package or module.startswith(package + ".")
    ]
    return max(owners)[1] if owners else None


def _private(module: str, package: str) -> bool:
    rest = module[len(package) :].strip(".")
    return any(part.startswith("_") for part in rest.split(".") if part)


class PrivateModulesContract(Contract):
    """No distribution imports a private module of another.

    Options:
        distributions: Lines ``dist: package package ...`` naming each distribution's packages.
    """

    type_name = "private_modules"

    distributions = fields.ListField(subfield=fields.StringField())

    def _groups(self) -> dict[str, str]:
        groups: dict[str, str] = {}
        for line in self.distributions:  # type: ignore[attr-defined]
            dist, _, packages = str(line).partition(":")
            for package in packages.split():
                groups[package] = dist.strip()
        return groups

    def check(self, graph, verbose: bool) -> ContractCheck:  # noqa: ANN001
        """Every direct import from one distribution's module into another's private module."""
        groups = self._groups()
        broken: list[dict[str, object]] = []
        for importer in sorted(graph.modules):
            source = _owner(importer, groups)
            if source is None:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                target = _owner(imported, groups)
                if target is None or target == source:
                    continue
                package = max((p for p in groups if imported.startswith(p)), key=len)
                if not _private(imported, package):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                lines = [d["line_number"] for d in details]
                broken.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """One line per offending import."""
        for item in check.metadata["broken"]:
            lines = ", ".join(f"l.{n}" for n in item["lines"])  # type: ignore[attr-defined]
            output.print_error(
                f"{item['importer']} -> {item['imported']} ({lines}): a private module of "
                "another distribution; make what it needs public instead.",
                bold=False,
            )
            output.new_line()
