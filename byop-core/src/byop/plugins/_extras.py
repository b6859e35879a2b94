"""Which extra installs which feature: the one table byop's messages read it from."""

from __future__ import annotations

from collections.abc import Mapping

KNOWN_EXTRAS: Mapping[tuple[str, str], str] = {
    ("optimizers", "smac"): "byop[smac]",
    ("optimizers", "optuna"): "byop[optuna]",
    ("optimizers", "neps"): "byop[neps]",
    ("optimizers", "hebo"): "byop[hebo]",
    ("samplers", "configspace"): "byop[configspace]",
    ("space_parsers", "configspace"): "byop[configspace]",
    ("space_parsers", "optuna"): "byop[optuna]",
    ("backends", "dask"): "byop[dask]",
    ("backends", "slurm"): "byop[dask]",
    ("backends", "pbs"): "byop[dask]",
    ("backends", "sge"): "byop[dask]",
    ("backends", "lsf"): "byop[dask]",
    ("backends", "htcondor"): "byop[dask]",
    ("backends", "ray"): "byop[ray]",
    ("backends", "airflow"): "byop[airflow]",
    ("builders", "sklearn"): "byop[sklearn]",
}
"""``(kind, name)`` to the ``pip install`` argument that brings a feature byop knows of."""


def install_hint(kind: str, name: str) -> str | None:
    """What to install for a known feature that is not registered, as a sentence.

    Example:
        ```python
        from byop.plugins import install_hint

        assert install_hint("optimizers", "smac") == "Install it with: pip install byop[smac]"
        assert install_hint("optimizers", "nonesuch") is None
        ```
    """
    extra = KNOWN_EXTRAS.get((kind, name))
    return None if extra is None else f"Install it with: pip install {extra}"
