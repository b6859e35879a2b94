"""byop is a PEP 420 namespace: no distribution may ship ``byop/__init__.py``."""

from __future__ import annotations

from importlib import metadata

from support.docblocks import ROOT


def test_no_package_in_the_checkout_has_a_byop_init():
    offenders = [p for p in ROOT.glob("byop-*/src/byop/__init__.py")]
    assert offenders == [], f"remove {offenders}: byop is a shared namespace"


def test_every_package_uses_the_src_layout_under_the_namespace():
    packages = sorted(ROOT.glob("byop-*/pyproject.toml"))
    assert packages, "no byop-* packages found"
    for pyproject in packages:
        src = pyproject.parent / "src" / "byop"
        assert src.is_dir(), f"{pyproject.parent.name} has no src/byop/"
        subpackages = [p for p in src.iterdir() if p.is_dir() and not p.name.startswith("_")]
        subpackages = [p for p in subpackages if p.name != "__pycache__"]
        assert subpackages, f"{pyproject.parent.name} ships nothing under byop/"


def test_no_installed_distribution_ships_a_byop_init():
    for dist in metadata.distributions():
        for file in dist.files or ():
            assert str(file).replace("\\", "/") != "byop/__init__.py", (
                f"{dist.metadata['Name']} ships byop/__init__.py, which breaks the namespace"
            )


def test_byop_is_a_namespace_package():
    import byop

    assert getattr(byop, "__file__", None) is None
    assert len(list(byop.__path__)) >= 1
