"""Where byop finds the Airflow to talk to, and how to log in: never in code or a run store.

The URL may be given in code; the user name and password (or a token) come from the
environment or from a config file only, so that they never sit in a script, a notebook or
byop's run settings. byop never logs them.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from attrs import field, frozen

logger = logging.getLogger("byop.airflow")

URL = "BYOP_AIRFLOW_URL"
USERNAME = "BYOP_AIRFLOW_USERNAME"
PASSWORD = "BYOP_AIRFLOW_PASSWORD"
TOKEN = "BYOP_AIRFLOW_TOKEN"
CONFIG = "BYOP_AIRFLOW_CONFIG"
_KEYS = ("url", "username", "password", "token", "dag_id")


class AirflowConfigError(ValueError):
    """byop's Airflow settings are missing or wrong; the message says where to fix them."""


@frozen(repr=False)
class AirflowConnection:
    """How to reach an Airflow 3 API server and log in (the secrets never show in its repr).

    Attributes:
        url: The API server's base URL (``http://127.0.0.1:8080``), without ``/api/v2``.
        username: The user byop logs in as, if any.
        password: That user's password.
        token: A JWT to use as it is, instead of logging in.
        dag_id: The trial DAG named by the config file, if it names one.
        source: Where the credentials came from, for messages (never the credentials).
    """

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    dag_id: str | None = None
    source: str = "nowhere"

    def __repr__(self) -> str:
        return f"AirflowConnection({self.url!r}, username={self.username!r}, from {self.source})"


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/byop/airflow.toml`` (``~/.config/byop/airflow.toml``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "byop" / "airflow.toml"


def read_config(path: Path) -> dict[str, str]:
    """The ``[airflow]`` table of a config file.

    Raises:
        AirflowConfigError: The file cannot be read, or is not such a file.
    """
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text())
    except OSError as e:
        raise AirflowConfigError(f"Cannot read byop's Airflow config file {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise AirflowConfigError(f"{path} is not valid TOML: {e}") from e
    table = data.get("airflow")
    if not isinstance(table, dict):
        raise AirflowConfigError(
            f"{path} has no [airflow] table: write url = ..., username = ... and "
            "password = ... under [airflow]."
        )
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise AirflowConfigError(f"{path}: unknown keys {unknown} (known: {', '.join(_KEYS)}).")
    for key, value in table.items():
        if not isinstance(value, str):
            raise AirflowConfigError(f"{path}: {key} must be a string.")
    if ("password" in table or "token" in table) and _shared(path):
        logger.warning(
            "%s holds a password or token and other users can read it: chmod 600 it.", path
        )
    return dict(table)


def _shared(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


def find_connection(
    url: str | None = None, config: str | os.PathLike[str] | None = None
) -> AirflowConnection:
    r"""The Airflow to use, from (in order) the arguments, the environment and a config file.

    The environment: ``BYOP_AIRFLOW_URL``, ``BYOP_AIRFLOW_USERNAME``, ``BYOP_AIRFLOW_PASSWORD``
    (or ``BYOP_AIRFLOW_TOKEN``). The config file: ``config``, else ``BYOP_AIRFLOW_CONFIG``, else
    ``~/.config/byop/airflow.toml`` if it exists; a TOML file with an ``[airflow]`` table of
    ``url``, ``username``, ``password``, ``token`` and ``dag_id``.

    Raises:
        AirflowConfigError: No URL is given anywhere, or the config file is wrong.

    Example:
        ```python
        import tempfile
        from pathlib import Path

        from byop.airflow import find_connection

        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "airflow.toml"
            path.write_text(
                '[airflow]\nurl = "http://airflow:8080"\nusername = "me"\npassword = "s3cret"\n'
            )
            path.chmod(0o600)
            found = find_connection(config=path)
        assert found.username == "me" and found.password == "s3cret"
        assert "s3cret" not in repr(found)
        ```
    """
    env = os.environ
    file: dict[str, str] = {}
    source = "the environment"
    path = Path(config) if config is not None else None
    if path is None and env.get(CONFIG):
        path = Path(env[CONFIG])
    if path is None and default_config_path().exists():
        path = default_config_path()
    if path is not None:
        file = read_config(path)
        source = f"the environment and {path}" if _any_env() else str(path)
    found_url = url or env.get(URL) or file.get("url")
    if not found_url:
        raise AirflowConfigError(
            "Which Airflow? Give url= (the API server, like http://airflow:8080), or set "
            f"{URL}, or write it in a config file ({CONFIG}, or {default_config_path()}) "
            "with the user name and password under [airflow]."
        )
    if not found_url.startswith(("http://", "https://")):
        raise AirflowConfigError(
            f"{found_url!r} is not an http:// or https:// URL of an Airflow API server."
        )
    return AirflowConnection(
        url=found_url.rstrip("/"),
        username=env.get(USERNAME) or file.get("username"),
        password=env.get(PASSWORD) or file.get("password"),
        token=env.get(TOKEN) or file.get("token"),
        dag_id=file.get("dag_id"),
        source=source,
    )


def _any_env() -> bool:
    return any(os.environ.get(v) for v in (URL, USERNAME, PASSWORD, TOKEN))
