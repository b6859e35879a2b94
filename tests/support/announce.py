"""Trials that say they have started, and a test that waits for them with a bound.

A trial running anywhere on this machine (a worker process, a Dask or Ray worker's sandbox, a
Slurm job) connects to the test's socket and sends its process id; the test blocks in
``accept`` until as many trials have started as it waits for, or its deadline passes.
"""

from __future__ import annotations

import os
import socket
import time
from types import TracebackType


class Announcements:
    """A socket on 127.0.0.1 that trials announce their start to.

    Example:
        ```python
        import os

        with Announcements() as started:
            announce(started.address)
            assert started.wait(1, timeout=5) == [os.getpid()]
        ```
    """

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        host, port = self._server.getsockname()[:2]
        self.address = f"{host}:{port}"

    def wait(self, n: int, *, timeout: float) -> list[int]:
        """The process ids of the next ``n`` trials to start; `TimeoutError` after ``timeout``."""
        deadline = time.monotonic() + timeout
        pids: list[int] = []
        while len(pids) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(pids)} of {n} trials started within {timeout} s")
            self._server.settimeout(remaining)
            conn, _ = self._server.accept()
            with conn, conn.makefile("r") as f:
                conn.settimeout(remaining)
                pids.append(int(f.read()))
        return pids

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> Announcements:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def announce(address: str) -> None:
    """Tell the test at ``address`` that this process has started a trial."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(str(os.getpid()).encode())
