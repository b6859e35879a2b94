"""Writing byop's trial DAG file into an Airflow ``dags/`` folder."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from byop.airflow._names import check_module_name

_DAG_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")

_TEMPLATE = '''\
"""byop's trial DAG {dag_id!r}: each run is one trial (or call) sent by byop's Airflow back end.

Written by `byop-airflow deploy-dag`; write it again with that command rather than by hand.
Needs byop-core and byop-airflow installed in Airflow's environment (the same version as where
byop's scheduler runs), and the modules below importable there.
"""

from byop.airflow import trial_dag

dag = trial_dag(
    {dag_id!r},
    allow={allow!r},  # the modules whose functions this DAG runs
    pool={pool!r},
    pool_slots={pool_slots!r},
    queue={queue!r},
    retries={retries!r},
    max_active_runs={max_active_runs!r},
)
'''


class DagFileExistsError(FileExistsError):
    """A different DAG file of that name is in the folder already (``force`` replaces it)."""


def deploy_dag(
    dags_folder: str | os.PathLike[str],
    *,
    allow: Sequence[str],
    dag_id: str = "byop_trial",
    pool: str | None = None,
    pool_slots: int = 1,
    queue: str | None = None,
    retries: int = 0,
    max_active_runs: int = 16,
    force: bool = False,
) -> Path:
    """Write byop's trial DAG file (``<dag_id>.py``) into an Airflow ``dags/`` folder.

    Airflow picks the DAG up at its next scan of the folder (``[dag_processor]
    refresh_interval``, 5 minutes by default; ``airflow dags reserialize`` at once). See
    `trial_dag` for the options.

    Args:
        dags_folder: Airflow's ``dags/`` folder (``airflow config get-value core dags_folder``).
        allow: The modules whose functions the DAG may run: at least one.
        dag_id: The DAG's id, and the file's name.
        pool: See `trial_dag`.
        pool_slots: See `trial_dag`.
        queue: See `trial_dag`.
        retries: See `trial_dag`.
        max_active_runs: See `trial_dag`.
        force: Replace a different file of that name.

    Returns:
        The file written (or found identical).

    Raises:
        ValueError: An option is invalid.
        FileNotFoundError: ``dags_folder`` does not exist.
        DagFileExistsError: A different file is there, and ``force`` is false.

    Example:
        ```python
        import tempfile

        from byop.airflow import deploy_dag

        with tempfile.TemporaryDirectory() as dags:
            path = deploy_dag(dags, allow=["mypackage.objectives"])
            assert path.name == "byop_trial.py"
            assert "mypackage.objectives" in path.read_text()
        ```
    """
    if not _DAG_ID.match(dag_id):
        raise ValueError(
            f"{dag_id!r} is not a DAG id: use letters, digits, '_', '.' and '-' (at most 200)."
        )
    modules = [check_module_name(m) for m in allow]
    if not modules:
        raise ValueError(
            "Name the modules whose functions the DAG may run (allow=[...], or --allow MODULE): "
            "whoever may trigger the DAG can run those, so byop's DAG runs no others."
        )
    for name, value, least in (
        ("retries", retries, 0),
        ("pool_slots", pool_slots, 1),
        ("max_active_runs", max_active_runs, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an int >= {least}, got {value!r}.")
    folder = Path(dags_folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"No folder {folder}: give Airflow's dags folder (`airflow config get-value core "
            "dags_folder` on the Airflow machine)."
        )
    text = _TEMPLATE.format(
        dag_id=dag_id,
        allow=modules,
        pool=pool,
        pool_slots=pool_slots,
        queue=queue,
        retries=retries,
        max_active_runs=max_active_runs,
    )
    path = folder / f"{dag_id}.py"
    if path.exists() and path.read_text() != text and not force:
        raise DagFileExistsError(
            f"{path} exists and differs from the DAG file byop would write: give force=True "
            "(--force) to replace it."
        )
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)  # Airflow never parses a half-written file
    return path
