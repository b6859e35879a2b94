"""A small client of Airflow 3's REST API (``/api/v2``), over the standard library's HTTP.

byop uses a handful of endpoints (trigger, list and patch DAG runs, read a task's XCom and log),
so it keeps no generated client and no HTTP library as a dependency: one kept-alive connection
per thread, a JWT from the auth manager's ``/auth/token`` (renewed when it expires), and errors
that say what to do.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from byop.airflow._credentials import AirflowConnection


class AirflowError(RuntimeError):
    """Airflow answered a request with an error.

    Attributes:
        status: The HTTP status.
        detail: Airflow's explanation, if it gave one.
    """

    def __init__(self, message: str, status: int = 0, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class AirflowUnavailableError(ConnectionError):
    """Nothing answers at the Airflow URL, or it stopped answering."""


class AirflowAuthError(AirflowError):
    """Airflow refused byop's credentials (or has none from byop)."""


class Rest:
    """Requests to one Airflow API server, from any thread.

    Args:
        connection: Where, and how to log in.
        timeout: Seconds to wait for an answer to one request.
        attempts: Tries per request when the connection fails or Airflow answers with a server
            error (a busy database), waiting longer each time. byop's requests are idempotent: a
            DAG run is triggered under an id byop chose, so triggering it again is a conflict.
    """

    def __init__(
        self, connection: AirflowConnection, *, timeout: float = 30.0, attempts: int = 4
    ) -> None:
        self.connection = connection
        self.timeout = timeout
        self.attempts = attempts
        parts = urllib.parse.urlsplit(connection.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._token: str | None = connection.token
        self._connections: list[http.client.HTTPConnection] = []

    # ------------------------------------------------------------------ the API
    def get(self, path: str, **params: Any) -> Any:
        """``GET /api/v2<path>`` with query parameters (lists repeat the name)."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """``POST /api/v2<path>`` with a JSON body."""
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: Mapping[str, Any]) -> Any:
        """``PATCH /api/v2<path>`` with a JSON body."""
        return self.request("PATCH", path, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        api: str = "/api/v2",
        text: bool = False,
    ) -> Any:
        """One request; its JSON answer (or text, with ``text``).

        Raises:
            AirflowUnavailableError: No answer after ``attempts`` tries.
            AirflowAuthError: Airflow refused byop's credentials.
            AirflowError: Airflow answered with another error.
        """
        url = f"{self._prefix}{api}{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = None if body is None else json.dumps(body).encode()
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            headers = {"Accept": "text/plain" if text else "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            try:
                token = self._login() if self._can_login() else self._token
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                status, raw = self._send(method, url, data, headers)
            except (OSError, http.client.HTTPException) as e:
                self._drop()
                if attempt < self.attempts:
                    time.sleep(_backoff(attempt))
                    continue
                raise AirflowUnavailableError(
                    f"Airflow at {self.connection.url} does not answer ({type(e).__name__}: {e}). "
                    "Check that its API server runs there (`airflow api-server`, or byop's "
                    "scripts/services/airflow-up)."
                ) from e
            if status == 401 and not renewed and self._can_login():
                renewed = True
                with self._lock:
                    if self._token == token:
                        self._token = None
                continue
            if status in _TRANSIENT and attempt < self.attempts:
                time.sleep(_backoff(attempt))
                continue
            if status >= 400:
                raise self._error(method, path, status, raw)
            if text:
                return raw.decode(errors="replace")
            return json.loads(raw) if raw else None

    def close(self) -> None:
        """Close every connection (they reopen on the next request)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ logging in
    def _can_login(self) -> bool:
        c = self.connection
        return c.username is not None and c.password is not None

    def _login(self) -> str:
        """The current token, or a new one from the auth manager."""
        with self._lock:
            if self._token is not None:
                return self._token
        c = self.connection
        body = json.dumps({"username": c.username, "password": c.password}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        status, raw = self._send("POST", f"{self._prefix}/auth/token", body, headers)
        if status in (400, 401, 403, 422):
            raise AirflowAuthError(
                f"Airflow at {c.url} refused the user {c.username!r} (HTTP {status}): check the "
                f"user name and password in {c.source}.",
                status,
            )
        if status >= 400:
            raise self._error("POST", "/auth/token", status, raw)
        token = json.loads(raw).get("access_token")
        if not isinstance(token, str):
            raise AirflowAuthError(
                f"Airflow at {c.url} answered /auth/token without an access_token: is this "
                "Airflow 3 with an auth manager that issues tokens?",
                status,
            )
        with self._lock:
            self._token = token
        return token

    # ------------------------------------------------------------------ the wire
    def _send(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        conn = self._connection()
        conn.request(method, url, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self._drop()
        return response.status, raw

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(
                    self._host,
                    self._port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)

    def _error(self, method: str, path: str, status: int, raw: bytes) -> AirflowError:
        detail = _detail(raw)
        if status == 401:
            how = (
                f"the token from {self.connection.source} was refused (expired?)"
                if self.connection.token and not self._can_login()
                else "byop has no credentials for it: set BYOP_AIRFLOW_USERNAME and "
                "BYOP_AIRFLOW_PASSWORD, or write them in byop's Airflow config file"
            )
            return AirflowAuthError(f"Airflow at {self.connection.url}: {how}.", status, detail)
        if status == 403 and "token" in detail.lower() and not self._can_login():
            return AirflowAuthError(
                f"Airflow at {self.connection.url} refused the token from "
                f"{self.connection.source} ({detail}): get a new one, or give a user name and "
                "password instead.",
                status,
                detail,
            )
        if status == 403:
            who = repr(self.connection.username) if self.connection.username else "of the token"
            return AirflowAuthError(
                f"Airflow at {self.connection.url} does not let the user {who} {method} "
                f"{path}: give the user the permissions on the DAG (trigger, read and edit its "
                f"DAG runs, read its task instances, XComs and logs). Airflow said: {detail}",
                status,
                detail,
            )
        return AirflowError(
            f"Airflow at {self.connection.url} answered {method} {path} with HTTP {status}: "
            f"{detail}",
            status,
            detail,
        )


_TRANSIENT = (500, 502, 503, 504)  # a busy database, a restarting server: worth asking again


def _backoff(attempt: int) -> float:
    """Seconds to wait before the next try: 0.25, 0.5, 1, 2..."""
    return 0.25 * 2.0 ** (attempt - 1)


def _detail(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw[:300].decode(errors="replace")
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])[:500]
    return str(data)[:500]
