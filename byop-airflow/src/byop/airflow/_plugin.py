"""The ``airflow`` plugin: the back end ``airflow``. Registering contacts no Airflow."""

from __future__ import annotations

from byop.plugins import Register, hookimpl


@hookimpl
def register_backends(register: Register) -> None:
    """A remote Airflow 3 running byop's trial DAG (``airflow``)."""
    from byop.airflow._backend import AirflowBackend

    register("airflow", AirflowBackend)
