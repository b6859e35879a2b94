"""The dashboard's HTTP server: the standard library's threading server, read-only.

Routes (``GET`` and ``HEAD`` only; anything else is refused):

- ``/`` and ``/runs/<n>``: the pages (static HTML; the data comes from the API below);
- ``/static/<name>``: the page's script and style, and plotly.js from the installed plotly;
- ``/api/runs``: every run's status; ``/api/runs/<n>``: one run's status;
- ``/api/runs/<n>/events``: the run as server-sent events: its status and table rows, then
  each change as it is read (the browser's ``EventSource`` resumes where it stopped);
- ``/api/runs/<n>/plots/<kind>``: a plot's plotly figure; ``/api/runs/<n>/trials/<i>``: one
  trial's details (configuration, results, exception, traceback).

A run is named by its number in the list of stores the server was given: nothing from a
request ever becomes a file path. When it listens on a loopback address, the server answers
only requests addressed to a loopback name (``Host: 127.0.0.1:<port>``, ``localhost``...), so
that a web page elsewhere cannot reach it by pointing a domain name at 127.0.0.1.
"""

from __future__ import annotations

import gzip
import re
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from byop.dashboard._watch import PLOT_KINDS, RunWatch

KEEPALIVE = 15.0  # seconds between comments on an idle event stream
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")

SECURITY_HEADERS = {
    # Scripts only from this server (plotly's WebGL plots compile shaders with eval);
    # styles inline too, as plotly sets them.
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}

_STATIC = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_PAGES = {"index": "index.html", "run": "run.html"}
_RUN = re.compile(r"^/api/runs/(\d{1,6})(?:/(events|plots/([a-z]{1,20})|trials/(\d{1,9})))?$")


class _Asset:
    """A file served from memory, gzipped once for the clients that accept it."""

    def __init__(self, data: bytes, content_type: str, *, cache: bool) -> None:
        self.data = data
        self.content_type = content_type
        self.cache = cache
        self._gzipped: bytes | None = None
        self._lock = threading.Lock()

    def gzipped(self) -> bytes:
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.data, compresslevel=6, mtime=0)
            return self._gzipped


def _package_file(name: str) -> bytes:
    return resources.files("byop.dashboard").joinpath("static", name).read_bytes()


def _plotly_js() -> bytes:
    import plotly

    return resources.files(plotly).joinpath("package_data", "plotly.min.js").read_bytes()


class DashboardServer(ThreadingHTTPServer):
    """Serves the dashboard of ``watches``; `DashboardHandler` answers each request."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], watches: list[RunWatch]) -> None:
        self.watches = watches
        self.closing = threading.Event()
        self._assets: dict[str, _Asset] = {}
        self._assets_lock = threading.Lock()
        host = address[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__(address, DashboardHandler)
        self.loopback_only = host in LOOPBACK_NAMES or host.startswith("127.")

    @property
    def port(self) -> int:
        """The port it listens on."""
        port: int = self.server_address[1]
        return port

    def asset(self, name: str) -> _Asset | None:
        """A page, static file or plotly.js, by its name (``None``: no such)."""
        with self._assets_lock:
            if name in self._assets:
                return self._assets[name]
            if name in _PAGES:
                asset = _Asset(_package_file(_PAGES[name]), "text/html; charset=utf-8", cache=False)
            elif name in _STATIC:
                asset = _Asset(_package_file(name), _STATIC[name], cache=False)
            elif name == "plotly.min.js":
                asset = _Asset(_plotly_js(), "text/javascript; charset=utf-8", cache=True)
            else:
                return None
            self._assets[name] = asset
            return asset

    def host_allowed(self, host: str | None) -> bool:
        """Whether a request's ``Host`` names this server (any name, unless on loopback)."""
        if not self.loopback_only:
            return True
        if not host:
            return False
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name.lower() in LOOPBACK_NAMES

    def close(self) -> None:
        """Stop following runs and wake the clients that wait for changes."""
        self.closing.set()
        for watch in self.watches:
            watch.close()


class DashboardHandler(BaseHTTPRequestHandler):
    """Answers one request to the dashboard."""

    server: DashboardServer
    timeout = 60  # seconds a read or write may block: a client that stopped reading goes
    protocol_version = "HTTP/1.1"
    server_version = "byop-dashboard"
    sys_version = ""

    # ------------------------------------------------------------------ plumbing
    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the console shows the dashboard's address, not every request."""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        *,
        cache: bool = False,
        gzipped: bytes | None = None,
        head: bool = False,
    ) -> None:
        use_gzip = gzipped is not None and "gzip" in self.headers.get("Accept-Encoding", "")
        payload = gzipped if use_gzip and gzipped is not None else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        if gzipped is not None:
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Cache-Control", "public, max-age=86400" if cache else "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(payload)

    def _error(self, status: HTTPStatus, message: str, *, head: bool = False) -> None:
        body = ('{"error":"' + message.replace('"', "'") + '"}').encode()
        self._send(status, body, head=head)

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse  # noqa: N815 - read-only

    def do_HEAD(self) -> None:
        """Like GET, without the body."""
        self._route(head=True)

    def do_GET(self) -> None:
        """Answer a GET request."""
        self._route(head=False)

    # ------------------------------------------------------------------ routing
    def _route(self, *, head: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host")):
            self._error(HTTPStatus.MISDIRECTED_REQUEST, "unknown host", head=head)
            return
        url = urlsplit(self.path)
        path = url.path
        if path == "/":
            self._asset("index", head=head)
        elif (page := re.fullmatch(r"/runs/(\d{1,6})", path)) is not None:
            if int(page.group(1)) < len(self.server.watches):
                self._asset("run", head=head)
            else:  # no such run: the list of runs
                self.send_response(HTTPStatus.SEE_OTHER)
                self.send_header("Location", "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
        elif path.startswith("/static/"):
            self._asset(path.removeprefix("/static/"), head=head)
        elif path == "/favicon.ico":
            self._asset("favicon.svg", head=head)
        elif path == "/api/runs":
            runs = b",".join(w.status_json() for w in self.server.watches)
            self._send(HTTPStatus.OK, b"[" + runs + b"]", head=head)
        elif (match := _RUN.match(path)) is not None:
            self._run(match, parse_qs(url.query), head=head)
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such page", head=head)

    def _asset(self, name: str, *, head: bool) -> None:
        asset = self.server.asset(name)
        if asset is None:
            self._error(HTTPStatus.NOT_FOUND, "no such file", head=head)
            return
        self._send(
            HTTPStatus.OK,
            asset.data,
            asset.content_type,
            cache=asset.cache,
            gzipped=asset.gzipped() if len(asset.data) > 1024 else None,
            head=head,
        )

    def _run(self, match: re.Match[str], query: dict[str, list[str]], *, head: bool) -> None:
        number = int(match.group(1))
        watches = self.server.watches
        if number >= len(watches):
            self._error(HTTPStatus.NOT_FOUND, "no such run", head=head)
            return
        watch = watches[number]
        what, kind, trial = match.group(2), match.group(3), match.group(4)
        if what is None:
            self._send(HTTPStatus.OK, watch.status_json(), head=head)
        elif what == "events":
            if head:
                self._send(HTTPStatus.OK, b"", "text/event-stream", head=True)
            else:
                self._events(watch, query)
        elif kind is not None:
            if kind not in PLOT_KINDS:
                self._error(HTTPStatus.NOT_FOUND, "no such plot", head=head)
                return
            self._send(HTTPStatus.OK, watch.plot(kind), head=head)
        else:
            body = watch.trial(int(trial))
            if body is None:
                self._error(HTTPStatus.NOT_FOUND, "no such trial", head=head)
                return
            self._send(HTTPStatus.OK, body, head=head)

    # ------------------------------------------------------------------ events
    def _events(self, watch: RunWatch, query: dict[str, list[str]]) -> None:
        epoch, since = _resume_point(self.headers.get("Last-Event-ID"), query)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        version = -1
        try:
            self.wfile.write(b"retry: 2000\n\n")
            while not self.server.closing.is_set():
                if watch.version != version:
                    version = watch.version
                    epoch, since, body, more = watch.message(epoch, since)
                    self.wfile.write(f"id: {epoch}:{since}\nevent: update\ndata: ".encode())
                    self.wfile.write(body + b"\n\n")
                    self.wfile.flush()
                    if more:
                        version = -1  # more rows than one message holds: send the next now
                    continue
                if watch.wait(version, KEEPALIVE) == version:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return  # the client went away


def _resume_point(last_event_id: str | None, query: dict[str, list[str]]) -> tuple[int, int]:
    """The (epoch, rows) a client has, from ``Last-Event-ID`` or ``?epoch=&since=``."""
    text = last_event_id or f"{query.get('epoch', ['-1'])[0]}:{query.get('since', ['0'])[0]}"
    match = re.fullmatch(r"(-?\d{1,9}):(\d{1,9})", text.strip())
    if match is None:
        return -1, 0
    return int(match.group(1)), int(match.group(2))


def format_address(host: str, port: int) -> str:
    """``http://host:port/`` (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def warn(message: str) -> None:
    """Print a warning of the dashboard's."""
    print(f"byop dashboard: {message}", file=sys.stderr)


def store_paths(stores: list[str | Path]) -> list[Path]:
    """The stores to serve: each file given, and the ``*.jsonl`` files of each directory."""
    out: list[Path] = []
    seen: set[Path] = set()
    for store in stores:
        path = Path(store).expanduser()
        found = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        if path.is_dir() and not found:
            warn(f"{path} is a directory without *.jsonl run stores")
        for item in found:
            key = item.resolve()
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out
