"""How a running trial's progress reaches the main process, and the answer comes back.

- In the main process (the sequential and thread back ends), the link calls the task's
  `Task.progress` directly.
- In a worker of byop's process back end, the link is the worker's pipe: it sends the step
  and values, and reads the answer (`worker_link`).
- Elsewhere (Dask, Ray, Slurm, a process pool: wherever the trial is pickled to), the link is a
  `RemoteLink` that travels with the trial and connects back to the `ProgressServer` of
  the back end that sent it: one TCP connection per worker process, authenticated with a key
  only the main process and its trials know.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

worker_link: Callable[..., bool] | None = None
"""The link of this process's trials when nothing else gives them one (a byop worker's pipe)."""

Handler = Callable[[int, float, dict[str, Any]], bool]
"""``handler(call_id, step, values) -> bool``: whether the call should stop."""


class ProgressServer:
    """Hears progress from trials running elsewhere, and answers each report.

    Args:
        handler: Judges each report: ``handler(call_id, step, values) -> bool``.
        host: The address to listen on: one that the workers can reach.
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        import secrets  # loaded with the first engine that runs trials, never on import
        from multiprocessing.connection import Listener

        self._handler = handler
        self._key = secrets.token_bytes(32)
        self._listener = Listener((host, 0), authkey=self._key)
        self.address: tuple[str, int] = self._listener.address
        self._connections: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name="byop-progress", daemon=True).start()

    def link(self, call_id: int) -> RemoteLink:
        """The link for the trial of call ``call_id`` (it travels with the trial)."""
        return RemoteLink(self.address, self._key, call_id)

    def _accept(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except Exception:  # closed, or a peer that failed to authenticate
                if self._closed:
                    return
                continue
            with self._lock:
                if self._closed:
                    connection.close()
                    return
                self._connections.append(connection)
            threading.Thread(
                target=self._serve, args=(connection,), name="byop-progress", daemon=True
            ).start()

    def _serve(self, connection: Connection) -> None:
        handler = self._handler
        while True:
            try:
                call_id, step, values = connection.recv()
            except (EOFError, OSError, ValueError, TypeError):
                break
            try:
                answer = handler(call_id, step, values)
            except BaseException:
                answer = True  # the error is the run's to report; the trial stops
            try:
                connection.send(answer)
            except OSError:
                break
        with self._lock, contextlib.suppress(ValueError):
            self._connections.remove(connection)
        connection.close()

    def close(self) -> None:
        """Stop listening and close every connection."""
        with self._lock:
            self._closed = True
            connections = list(self._connections)
        self._listener.close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.close()


_connections: dict[tuple[int, int, tuple[str, int]], Connection | None] = {}
_connections_lock = threading.Lock()


class RemoteLink:
    """A trial's link back to a `ProgressServer`: picklable, it travels with the trial.

    Each worker process (and thread) connects once and keeps the connection. When the main
    process cannot be reached, progress is kept on the trial and the answer is ``False``.
    """

    portable = True
    __slots__ = ("address", "call_id", "key")

    def __init__(self, address: tuple[str, int], key: bytes, call_id: int) -> None:
        self.address = address
        self.key = key
        self.call_id = call_id

    def __call__(self, trial: Any, step: float, values: dict[str, Any]) -> bool:
        where = (os.getpid(), threading.get_ident(), self.address)
        with _connections_lock:
            connection = _connections.get(where, ...)
        if connection is ...:
            from multiprocessing.connection import Client

            try:
                connection = Client(self.address, authkey=self.key)
            except (OSError, EOFError, ValueError):
                connection = None  # unreachable: this worker does not try again
            with _connections_lock:
                _connections[where] = connection
        if connection is None:
            return False
        try:
            connection.send((self.call_id, step, values))
            return bool(connection.recv())
        except (OSError, EOFError):
            with _connections_lock:
                _connections.pop(where, None)
            return False

    def __reduce__(self) -> tuple[Any, ...]:
        return (RemoteLink, (self.address, self.key, self.call_id))

    def __repr__(self) -> str:
        return f"RemoteLink({self.address[0]}:{self.address[1]}, call {self.call_id})"


def local_link(call: Any) -> Callable[..., bool]:
    """The link of a call that runs in this process: straight to its task."""
    task = call.task

    def link(trial: Any, step: float, values: dict[str, Any]) -> bool:
        return bool(task.progress(call, step, values))

    return link


def address_toward(host: str) -> str:
    """This machine's address as ``host`` sees it (no packet is sent): where to listen."""
    import socket

    if host in ("localhost", "::1", "") or host.startswith("127."):
        return "127.0.0.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))
            address: str = probe.getsockname()[0]
    except OSError:
        return socket.gethostbyname(socket.gethostname())
    return address
