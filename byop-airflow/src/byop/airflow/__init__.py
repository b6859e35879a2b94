"""byop's Apache Airflow back end.

``Scheduler.with_backend("airflow")`` runs each trial as a run of byop's trial DAG on a running
Airflow 3 (`AirflowBackend`), talking to its REST API: this machine needs no Airflow. The DAG
(`trial_dag`), put into Airflow's ``dags/`` folder by ``byop-airflow deploy-dag`` (`deploy_dag`),
runs each call in byop's sandbox on an Airflow worker (`run_conf`), so per-trial limits and crash
isolation hold as on byop's own processes. Calls and results cross as JSON, never pickle: the
objective is imported by name on Airflow's workers.

The names load on first use: Airflow parses the DAG file, which imports `trial_dag`, every
half minute and in every task, so it imports nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from byop.airflow._backend import AirflowBackend
    from byop.airflow._credentials import AirflowConfigError, AirflowConnection, find_connection
    from byop.airflow._dag import trial_dag
    from byop.airflow._deploy import DagFileExistsError, deploy_dag
    from byop.airflow._rest import AirflowAuthError, AirflowError, AirflowUnavailableError
    from byop.airflow._task import run_conf
    from byop.airflow._wire import NotImportableError, NotJSONError

_MODULES = {
    "AirflowAuthError": "_rest",
    "AirflowBackend": "_backend",
    "AirflowConfigError": "_credentials",
    "AirflowConnection": "_credentials",
    "AirflowError": "_rest",
    "AirflowUnavailableError": "_rest",
    "DagFileExistsError": "_deploy",
    "NotImportableError": "_wire",
    "NotJSONError": "_wire",
    "deploy_dag": "_deploy",
    "find_connection": "_credentials",
    "run_conf": "_task",
    "trial_dag": "_dag",
}

__all__ = [
    "AirflowAuthError",
    "AirflowBackend",
    "AirflowConfigError",
    "AirflowConnection",
    "AirflowError",
    "AirflowUnavailableError",
    "DagFileExistsError",
    "NotImportableError",
    "NotJSONError",
    "deploy_dag",
    "find_connection",
    "run_conf",
    "trial_dag",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'byop.airflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"byop.airflow.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
