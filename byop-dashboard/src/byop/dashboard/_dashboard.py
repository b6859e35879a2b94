"""`Dashboard`: run stores, followed and served over HTTP; `serve`: the same, for the command."""

from __future__ import annotations

import errno
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TextIO

from byop.dashboard._server import DashboardServer, format_address, store_paths, warn
from byop.dashboard._watch import RunWatch, load_plotting

DEFAULT_PORT = 8765
"""The port the dashboard listens on unless told otherwise."""


class Dashboard:
    """A web dashboard of run stores: their status, summary, plots and trials, live.

    It follows each store as it is written (reading only what was appended) and serves the
    pages, plots and data over HTTP. It only reads: the stores are never written or locked.

    Args:
        stores: Run stores (files), or directories whose ``*.jsonl`` files are run stores.
            A file that does not exist yet shows as waiting, and is read once it appears.
        host: The address to listen on: ``127.0.0.1`` (this machine only) by default.
        port: The port (``0``: any free one; see `url`).
        poll_interval: Seconds between looks at the stores for new records.

    Raises:
        ValueError: No stores were given.
        OSError: The port is in use, or the address cannot be listened on.

    Example:
        ```python
        import json
        import tempfile
        import urllib.request
        from pathlib import Path

        from byop.dashboard import Dashboard
        from byop.run import optimize

        def square(trial):
            return trial.success(cost=trial.config["x"] ** 2)

        path = Path(tempfile.mkdtemp()) / "square.jsonl"
        optimize(square, {"x": (-1.0, 1.0)}, seed=0, max_trials=10, store=path,
                 progress="off", backend="sequential")

        with Dashboard([path], port=0).start() as dashboard:  # port 0: any free port
            with urllib.request.urlopen(dashboard.url + "api/runs") as response:
                runs = json.load(response)
        assert runs[0]["name"] == "square.jsonl" and runs[0]["trials"] == 10
        assert runs[0]["state"] == "finished"
        ```
    """

    def __init__(
        self,
        stores: Sequence[str | Path],
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        poll_interval: float = 0.5,
    ) -> None:
        if isinstance(stores, str | Path):
            stores = [stores]
        paths = store_paths(list(stores))
        if not paths:
            raise ValueError("Give the dashboard at least one run store (a .jsonl file).")
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval!r}.")
        self.poll_interval = float(poll_interval)
        load_plotting()
        self.watches = [RunWatch(number, path) for number, path in enumerate(paths)]
        for watch in self.watches:
            watch.refresh()
        try:
            self.server = DashboardServer((host, port), self.watches)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise OSError(
                    e.errno,
                    f"port {port} on {host} is in use (another dashboard?): choose another "
                    "with --port, or --port 0 for any free one",
                ) from e
            raise OSError(e.errno, f"cannot listen on {host} port {port}: {e.strerror}") from e
        self.host = host
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._served = False

    @property
    def url(self) -> str:
        """The dashboard's address, e.g. ``http://127.0.0.1:8765/``."""
        return format_address(self.host, self.server.port)

    @property
    def stores(self) -> list[Path]:
        """The stores it serves, in the order of their numbers."""
        return [w.path for w in self.watches]

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_interval):
            for watch in self.watches:
                try:
                    watch.refresh()
                except Exception as e:  # a bug reading one store must not stop the others
                    warn(f"reading {watch.path} failed: {type(e).__name__}: {e}")

    def _start_following(self) -> None:
        thread = threading.Thread(target=self._follow, name="byop-dashboard-follow", daemon=True)
        thread.start()
        self._threads.append(thread)

    def start(self) -> Dashboard:
        """Serve in background threads (for notebooks and tests); `close` stops it."""
        self._start_following()
        self._served = True
        thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},  # how soon `close` stops it
            name="byop-dashboard-serve",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until `close` is called from another (or Ctrl-C)."""
        self._start_following()
        self._served = True
        try:
            self.server.serve_forever()
        finally:
            self.close()

    def close(self) -> None:
        """Stop serving and following; closing twice is harmless."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.server.close()
        if self._served:  # returns at once if serving already stopped (Ctrl-C)
            self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Dashboard({self.url!r}, {len(self.watches)} stores)"


def _open(url: str) -> None:
    """Open ``url`` in a graphical web browser, if this session has a display."""
    import os
    import webbrowser

    graphical = sys.platform in ("darwin", "win32") or any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY")
    )
    if not graphical:  # a terminal browser would take over this terminal: leave it be
        warn(f"no display to open a browser on: open {url} in yours")
        return
    if not webbrowser.open(url):
        warn(f"could not open a browser: open {url} in yours")


def serve(
    stores: Sequence[str | Path],
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    poll_interval: float = 0.5,
    open_browser: bool = False,
    out: TextIO | None = None,
) -> int:
    """Serve a dashboard of ``stores`` until Ctrl-C: what ``byop dashboard`` runs.

    Prints the address to open, what a non-loopback ``host`` exposes, and which stores do
    not exist yet.

    Returns:
        The exit status, 0.

    Raises:
        ValueError: No stores were given.
        OSError: The port is in use, or the address cannot be listened on.
    """
    out = out or sys.stderr
    try:
        dashboard = Dashboard(stores, host=host, port=port, poll_interval=poll_interval)
    except KeyboardInterrupt:  # while reading the stores the first time
        print("byop dashboard: stopped", file=out)
        return 0
    for path in dashboard.stores:
        if not path.exists():
            warn(f"{path} does not exist (yet): it shows as waiting until it appears")
    if not dashboard.server.loopback_only:
        warn(
            f"listening on {host}, not only on this machine: anyone who can reach port "
            f"{dashboard.server.port} here can read these runs (configurations, results, "
            "exception messages and tracebacks) without logging in. Prefer the default "
            "127.0.0.1 with an SSH tunnel (ssh -L PORT:127.0.0.1:PORT host)."
        )
    count = len(dashboard.stores)
    print(
        f"byop dashboard: {count} run{'s' if count != 1 else ''} at {dashboard.url}  "
        "(Ctrl-C stops it)",
        file=out,
        flush=True,
    )
    if open_browser:
        _open(dashboard.url)
    try:
        dashboard.serve_forever()
    except KeyboardInterrupt:
        print("byop dashboard: stopped", file=out)
    finally:
        dashboard.close()
    return 0
