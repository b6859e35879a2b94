"""Every distribution's wheel and sdist carries its license, classifiers, URLs and py.typed.

Each distribution of the checkout (the ``byop`` meta package and every ``byop-*``) is built
with hatchling, its build back end, offline: a wheel and an sdist from the checkout, and a wheel
from the unpacked sdist, as pip builds one from a source distribution. Each of the three must
ship the BSD-3-Clause LICENSE, name it in its metadata, list the classifiers and project URLs
below, and (when it has code) mark every package under ``byop/`` as typed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
import trove_classifiers
from support.docblocks import ROOT

DISTRIBUTIONS = [ROOT, *sorted(p.parent for p in ROOT.glob("byop-*/pyproject.toml"))]
LICENSE = (ROOT / "LICENSE").read_bytes()

# Each Python whose classifier we claim: the whole test suite passed on it (see the README).
PYTHONS = ("3.11", "3.12", "3.13")
REQUIRED_CLASSIFIERS = {
    "Operating System :: POSIX :: Linux",  # memory limits read /proc and set RLIMIT_DATA
    "Programming Language :: Python :: 3 :: Only",
    "Typing :: Typed",
    *(f"Programming Language :: Python :: {v}" for v in PYTHONS),
}
URL_LABELS = {"Homepage", "Documentation", "Repository", "Issues", "Source"}


def _mkdocs_setting(key: str) -> str:
    found = re.search(rf"^{key}:\s*(\S+)\s*$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE)
    assert found is not None, f"mkdocs.yml has no {key}"
    return found.group(1)


def _hatchling(args: list[str], cwd: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"hatchling build in {cwd} failed:\n{proc.stdout}\n{proc.stderr}"


def _wheel(path: Path) -> tuple[Message, dict[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        files = {name: z.read(name) for name in z.namelist()}
    (metadata,) = [n for n in files if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    return Parser().parsestr(files[metadata].decode()), files


def _sdist(path: Path) -> tuple[Message, dict[str, bytes]]:
    files = {}
    with tarfile.open(path) as t:
        for member in t.getmembers():
            if member.isfile():
                f = t.extractfile(member)
                assert f is not None
                # Paths relative to the sdist's top directory.
                files[member.name.split("/", 1)[1]] = f.read()
    return Parser().parsestr(files["PKG-INFO"].decode()), files


def _check_metadata(what: str, meta: Message) -> None:
    assert meta["License-Expression"] == "BSD-3-Clause", what
    assert "LICENSE" in (meta.get_all("License-File") or []), f"{what}: no License-File"
    classifiers = set(meta.get_all("Classifier") or [])
    assert classifiers >= REQUIRED_CLASSIFIERS, (
        f"{what} lacks the classifiers {sorted(REQUIRED_CLASSIFIERS - classifiers)}"
    )
    unknown = classifiers - set(trove_classifiers.classifiers)
    assert not unknown, f"{what}: not trove classifiers: {sorted(unknown)}"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert set(urls) == URL_LABELS, f"{what}: Project-URLs {sorted(urls)}"
    assert urls["Repository"] == _mkdocs_setting("repo_url"), what
    assert urls["Documentation"] == _mkdocs_setting("site_url"), what
    assert meta["Requires-Python"] == ">=3.11", what


def _check_typed(what: str, files: dict[str, bytes], prefix: str) -> None:
    """Every package directly under ``byop/`` has a ``py.typed`` marker."""
    packages = {
        name[len(prefix) :].split("/")[1]
        for name in files
        if name.startswith(prefix + "byop/") and name.endswith(".py")
    }
    untyped = sorted(p for p in packages if f"{prefix}byop/{p}/py.typed" not in files)
    assert not untyped, f"{what}: no py.typed in byop.{', byop.'.join(untyped)}"


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda d: d.name if d != ROOT else "byop")
def test_wheel_and_sdist_ship_license_classifiers_urls_and_py_typed(dist, tmp_path):
    assert (dist / "LICENSE").read_bytes() == LICENSE, f"{dist}/LICENSE differs from the root's"
    out = tmp_path / "dist"
    _hatchling(["-d", str(out)], cwd=dist)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    # A wheel built from the sdist, as pip does: the sdist must hold everything needed.
    with tarfile.open(sdist) as t:
        # (the "data" filter exists from Python 3.11.4 on; Debian 12's python3 is 3.11.2)
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        t.extractall(tmp_path / "unpacked", **safe)
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    _hatchling(["-t", "wheel", "-d", str(tmp_path / "from-sdist")], cwd=unpacked)
    (wheel_from_sdist,) = (tmp_path / "from-sdist").glob("*.whl")

    has_code = dist != ROOT
    for kind, path in (("wheel", wheel), ("wheel built from the sdist", wheel_from_sdist)):
        what = f"{dist.name}'s {kind}"
        meta, files = _wheel(path)
        _check_metadata(what, meta)
        licenses = [n for n in files if n.endswith(".dist-info/licenses/LICENSE")]
        assert len(licenses) == 1, f"{what} ships no dist-info/licenses/LICENSE"
        assert files[licenses[0]] == LICENSE, what
        if has_code:
            assert any(n.startswith("byop/") for n in files), f"{what} ships no code"
            _check_typed(what, files, "")
        else:
            assert not any(n.startswith("byop/") for n in files), f"{what} ships code"

    meta, files = _sdist(sdist)
    what = f"{dist.name}'s sdist"
    _check_metadata(what, meta)
    assert files.get("LICENSE") == LICENSE, f"{what} ships no LICENSE"
    if has_code:
        _check_typed(what, files, "src/")
