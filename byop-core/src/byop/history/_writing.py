"""Writing a run store: the one writer of a run appends its records, one line each."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from byop.history._errors import StoreError, StoreExistsError, StorePermissionError
from byop.history._files import lock, sync_directory, sync_file
from byop.history._reading import read_store
from byop.history._records import (
    RunHeader,
    RunLimits,
    StoredRun,
    encode,
    header_record,
    session_record,
)
from byop.optimization import Report, Trial
from byop.serialization import unstructure


class RunStore:
    """Appends the records of one run to its store; the run's main process is its only writer.

    Create a new store with `create`, or continue one with `reopen`. Each record is one
    ``write`` of one line; with ``sync`` (the default) it is on disk before the call returns.

    Example:
        ```python
        import tempfile
        from pathlib import Path

        from byop.history import RunHeader, RunStore
        from byop.optimization import Trial

        path = Path(tempfile.mkdtemp()) / "run.jsonl"
        store = RunStore.create(path, RunHeader(optimizer="manual", seed=0))
        trial = Trial(name="t0", config={"x": 1.0})
        store.started(trial)
        store.close()

        store, run = RunStore.reopen(path)
        assert [t.name for t in run.in_flight] == ["t0"]  # started, never reported
        store.reported(trial.success(cost=1.0))
        store.end("exhausted")
        store.close()
        ```
    """

    def __init__(self, path: Path, fd: int, *, sync: bool) -> None:
        self.path = path
        self.sync = sync
        self.records_written = 0
        self._fd: int | None = fd

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(
        cls,
        path: str | Path,
        header: RunHeader,
        *,
        limits: RunLimits | None = None,
        sync: bool = True,
    ) -> RunStore:
        """Create a new store at ``path`` (and its directory), and open it for writing.

        The header and first session record are written to a temporary file that is renamed
        into place, so a store either exists whole or not at all.

        Args:
            path: Where to create it. An empty file there is replaced.
            header: The run's header.
            limits: The run limits of this session (``header.limits`` by default).
            sync: Whether each record is synced to disk before the write returns.

        Raises:
            StoreExistsError: A non-empty file is already at ``path``.
            StorePermissionError: ``path`` or its directory cannot be written.
            StoreError: Another file-system error (a read-only file system, no space...).
        """
        path = Path(path)
        if path.exists() and (not path.is_file() or path.stat().st_size > 0):
            raise StoreExistsError(
                path,
                f"{path} already exists. Resume the run stored there with RunStore.reopen "
                "(optimize(..., store=path) does so), or choose a new path.",
            )
        tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as out:
                out.write(encode(header_record(header)))
                out.write(encode(session_record(limits or header.limits)))
                out.flush()
                if sync:
                    sync_file(out.fileno())
            os.replace(tmp, path)
        except OSError as e:
            raise _cannot(path, "create", e) from e
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if sync:
            sync_directory(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except OSError as e:
            raise _cannot(path, "open", e) from e
        try:
            lock(fd, path)
        except BaseException:
            os.close(fd)
            raise
        store = cls(path, fd, sync=sync)
        store.records_written = 2
        return store

    @classmethod
    def reopen(
        cls, path: str | Path, *, limits: RunLimits | None = None, sync: bool = True
    ) -> tuple[RunStore, StoredRun]:
        """Open an existing store to continue its run; returns the store and what it holds.

        A torn last record is cut off the file (it was never acknowledged), and a new session
        record is appended.

        Raises:
            FileNotFoundError: There is no store at ``path``.
            NotAStoreError: The file is not a run store.
            StoreVersionError: The store was written by a newer byop.
            CorruptStoreError: A record in the middle is damaged (`repair_store` rewrites it).
            StoreLockedError: Another process is writing to it.
            StorePermissionError: The store cannot be written.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No run store at {path}.")
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except OSError as e:
            raise _cannot(path, "open", e) from e
        try:
            lock(fd, path)
            run = read_store(path)
            if os.fstat(fd).st_size > run.valid_bytes:
                os.ftruncate(fd, run.valid_bytes)
            store = cls(path, fd, sync=sync)
            store._write(session_record(limits or run.header.limits))
        except BaseException:
            os.close(fd)
            raise
        return store, run

    # ------------------------------------------------------------------ records
    def started(self, trial: Trial[Any]) -> None:
        """Record that ``trial`` was submitted.

        Written at once but not synced on its own: the next synced record (the next report)
        makes it durable too. A killed process loses nothing written; a power cut can lose the
        ``started`` records after the last report, and then those trials are not re-run, which
        is as if they had never been asked.
        """
        record = {"kind": "started", "at": time.time(), "trial": unstructure(trial)}
        self._write(record, sync=False)

    def reported(
        self,
        report: Report[Any],
        *,
        progress: Sequence[tuple[float, Mapping[str, Any]]] | None = None,
    ) -> None:
        """Record a trial's report (with its intermediate results, ``(step, values)``)."""
        record: dict[str, Any] = {
            "kind": "report",
            "at": time.time(),
            "report": unstructure(report),
        }
        if progress:
            record["progress"] = [[step, dict(values)] for step, values in progress]
        self._write(record)

    def end(self, status: str) -> None:
        """Record that this session ended normally, and why (e.g. ``"exhausted"``)."""
        self._write({"kind": "end", "at": time.time(), "status": str(status)})

    def _write(self, record: Mapping[str, Any], *, sync: bool | None = None) -> None:
        fd = self._fd
        if fd is None:
            raise StoreError(self.path, f"The run store {self.path} is closed; reopen it.")
        data = encode(record)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self.sync if sync is None else sync:
                sync_file(fd)
        except OSError as e:
            raise StoreError(
                self.path,
                f"Could not write to the run store {self.path}: {e}. The records written "
                "before are intact; free space or fix the file system, then resume the run.",
            ) from e
        self.records_written += 1

    # ------------------------------------------------------------------ closing
    @property
    def closed(self) -> bool:
        """Whether the store was closed."""
        return self._fd is None

    def close(self) -> None:
        """Close the file (and release the lock). Closing twice is harmless."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"RunStore({str(self.path)!r}, {state}, records_written={self.records_written})"


def _cannot(path: Path, doing: str, error: OSError) -> StoreError:
    """The error for a store that cannot be created or opened: it names the store."""
    why = error.strerror or str(error)
    if isinstance(error, PermissionError):
        return StorePermissionError(
            path,
            f"Cannot {doing} the run store {path}: {why} (in {path.parent}). Choose a store "
            "path in a directory you can write to, or fix the permissions.",
        )
    return StoreError(path, f"Cannot {doing} the run store {path}: {why}.")
