"""Following a run store while it is written: each poll reads only what was appended.

`read_store` reads a whole store at once; a live view of a running optimization would pay for
the whole file on every refresh. A `StoreFollower` remembers how far it has read and, on each
`StoreFollower.poll`, reads the bytes appended since, folds the complete records into its
`StoredRun` and says what was new. A last line without its newline is a record still being
written (or torn): it is left for the next poll. Damaged complete lines are skipped and noted,
so that a damaged store shows as much as can be read. A file that was cut or replaced (a
resume cuts a torn last record; ``byop runs repair`` replaces the file) is read again from its
start, and the poll says so.

Reading never imports or runs anything named in the data, and never locks the file: the
run's writer is never kept from writing by a reader.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import evolve, frozen

from byop.history._errors import NotAStoreError, StoreError
from byop.history._reading import header_from
from byop.history._records import (
    STORE_FORMAT,
    RunHeader,
    RunLimits,
    Session,
    StoredRun,
)
from byop.optimization import Report, Trial
from byop.serialization import SerializationError, structure

_KINDS = ("session", "started", "report", "end")
_SIGNATURE = 64  # bytes before the read position that must not change between polls
_MAX_HEADER = 1 << 24  # a first line longer than this is no run header


@frozen
class StoreUpdate:
    """What one `StoreFollower.poll` found that was not there before.

    Attributes:
        reports: The reports appended since the last poll, in order.
        started: The trials started since the last poll, in order.
        sessions: Whether a session began or ended, or the last one wrote a record.
        reset: The file was cut or replaced, so the follower read it again from its start:
            everything it holds was replaced, and ``reports`` and ``started`` are all of them.
        problems: Problems met in this poll (damaged lines skipped, an unreadable header).
    """

    reports: tuple[Report[Any], ...] = ()
    started: tuple[Trial[Any], ...] = ()
    sessions: bool = False
    reset: bool = False
    problems: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything changed since the last poll."""
        return bool(self.reports or self.started or self.sessions or self.reset or self.problems)


class _DamageError(Exception):
    """A record that cannot be read; the message says why."""


class StoreFollower:
    """Reads a run store as it grows, a poll at a time, without re-reading what it has read.

    Until the store's header can be read (the file does not exist yet, is empty, or is not a
    store), `run` is ``None`` and `error` says why; later polls try again.

    Args:
        path: The store's file.

    Example:
        ```python
        import tempfile
        from pathlib import Path

        from byop.history import RunHeader, RunStore, StoreFollower
        from byop.optimization import Trial

        path = Path(tempfile.mkdtemp()) / "run.jsonl"
        follower = StoreFollower(path)
        assert follower.poll().changed is False and follower.run is None  # no file yet

        store = RunStore.create(path, RunHeader(optimizer="manual"), sync=False)
        trial = Trial(name="t0", config={"x": 1.0})
        store.started(trial)
        store.reported(trial.success(cost=1.0))
        update = follower.poll()
        assert [r.trial.name for r in update.reports] == ["t0"]

        store.reported(Trial(name="t1", config={"x": 2.0}).success(cost=4.0))
        assert [r.trial.name for r in follower.poll().reports] == ["t1"]  # only the new one
        assert len(follower.run.reports) == 2
        store.close()
        ```
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.run: StoredRun | None = None
        self.error: str | None = None
        self.bytes_read = 0
        """Bytes of the file read so far, up to the end of the last complete line."""
        self._identity: tuple[int, int] | None = None
        self._failed: tuple[tuple[int, int], int, int] | None = None
        self._signature = b""
        self._line = 0
        self._pending = 0
        self._reported: set[str] = set()
        self._sessions: list[dict[str, Any]] = []

    @property
    def pending_bytes(self) -> int:
        """Bytes after the last complete line: a record being written, or a torn one."""
        return self._pending

    # ------------------------------------------------------------------ polling
    def poll(self) -> StoreUpdate:
        """Read what was appended since the last poll, and say what was new.

        Never raises for what is in the file: an unreadable store sets `error` (and `run` is
        ``None``), a damaged line is skipped and named in the update's ``problems`` (and in
        ``run.problems``).

        Raises:
            OSError: The file exists but cannot be read (permissions, an I/O error).
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return self._lost(f"No run store at {self.path} (yet).")
        except IsADirectoryError:
            return self._lost(f"{self.path} is a directory, not a byop run store.")
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return self._lost(f"{self.path} is not a file, so it is not a byop run store.")
            return self._poll(fd)
        finally:
            os.close(fd)

    def _poll(self, fd: int) -> StoreUpdate:
        info = os.fstat(fd)
        identity = (info.st_dev, info.st_ino)
        if self.run is None and self._failed == (identity, info.st_size, info.st_mtime_ns):
            return StoreUpdate()  # the same file that was not a store, unchanged
        reset = False
        if self._identity is not None and (
            identity != self._identity or info.st_size < self.bytes_read
        ):
            reset = self._forget()
        if self.run is not None:
            start = self.bytes_read - len(self._signature)
            data = _read_from(fd, start, info.st_size)
            if data.startswith(self._signature):
                update = self._take(data[len(self._signature) :])
                return evolve(update, reset=True) if reset else update
            reset = self._forget()  # cut, and written again since the last poll
        self._identity = identity
        line = _first_line(fd, info.st_size)
        header = self._header(line, complete=line.endswith(b"\n"))
        if header is None:
            self._failed = (identity, info.st_size, info.st_mtime_ns)
            return StoreUpdate(reset=reset)
        self.run = StoredRun(path=self.path, header=header, valid_bytes=len(line))
        self.error = None
        self._line = 1
        self.bytes_read = len(line)
        self._signature = line[-_SIGNATURE:]
        update = self._take(_read_from(fd, len(line), info.st_size))
        return evolve(update, reset=True) if reset else update

    def _lost(self, why: str) -> StoreUpdate:
        had = self.run is not None or self.bytes_read > 0
        self._forget()
        self.error = why
        return StoreUpdate(reset=had)

    def _forget(self) -> bool:
        self.run = None
        self.error = None
        self.bytes_read = 0
        self._identity = None
        self._failed = None
        self._signature = b""
        self._line = 0
        self._pending = 0
        self._reported = set()
        self._sessions = []
        return True

    def _take(self, data: bytes) -> StoreUpdate:
        run = self.run
        assert run is not None
        lines = data.split(b"\n")
        self._pending = len(lines.pop())  # an incomplete line (or b"" after the last newline)
        reports: list[Report[Any]] = []
        started: list[Trial[Any]] = []
        problems: list[str] = []
        sessions = False
        consumed = 0
        for raw in lines:
            consumed += len(raw) + 1
            self._line += 1
            if not raw.strip():
                continue
            try:
                kind, item = self._record(raw)
            except _DamageError as e:
                problem = f"line {self._line}: skipped a damaged record ({e})"
                problems.append(problem)
                run.problems.append(problem)
                continue
            run.valid_bytes = self.bytes_read + consumed
            if kind == "report":
                reports.append(item)
            elif kind == "started":
                started.append(item)
            sessions = sessions or bool(self._sessions)
        self.bytes_read += consumed
        self._signature = (self._signature + data[:consumed])[-_SIGNATURE:]
        if sessions:
            run.sessions = [Session(**s) for s in self._sessions]
        return StoreUpdate(
            reports=tuple(reports),
            started=tuple(started),
            sessions=sessions,
            problems=tuple(problems),
        )

    def _header(self, line: bytes, *, complete: bool) -> RunHeader | None:
        if not line.strip():
            self.error = f"{self.path} is empty: it is not a byop run store (yet)."
            return None
        if not complete:
            self.error = f"{self.path} holds no complete header line (yet)."
            return None
        try:
            return _header_from(line, self.path)
        except StoreError as e:
            self.error = str(e)
            return None

    # ------------------------------------------------------------------ records
    def _record(self, raw: bytes) -> tuple[str, Any]:
        run = self.run
        assert run is not None
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise _DamageError(f"not JSON ({e})") from None
        if not isinstance(record, dict):
            raise _DamageError(f"a record is a JSON object, found {type(record).__name__}")
        kind = record.get("kind")
        at = record.get("at")
        if kind not in _KINDS:
            raise _DamageError(f"unknown record kind {kind!r}")
        if not isinstance(at, int | float) or isinstance(at, bool):
            raise _DamageError(f"{kind} record without a time")
        item: Any = None
        if kind == "session":
            pid = record.get("pid")
            self._sessions.append(
                {
                    "number": len(self._sessions) + 1,
                    "started": float(at),
                    "last_record": float(at),
                    "pid": pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                    "limits": _structured(
                        record.get("limits", record.get("budget")) or {}, RunLimits
                    ),
                }
            )
        elif kind == "started":
            item = _structured(record.get("trial"), Trial)
            run.started[item.name] = item
        elif kind == "report":
            item = _structured(record.get("report"), Report)
            if item.trial.name in self._reported:
                raise _DamageError(f"a second report of trial {item.trial.name!r}")
            self._reported.add(item.trial.name)
            run.reports.append(item)
        elif kind == "end" and self._sessions:
            status = record.get("status")
            self._sessions[-1]["ended"] = float(at)
            self._sessions[-1]["exit_status"] = None if status is None else str(status)
        if self._sessions:
            last = self._sessions[-1]
            last["last_record"] = max(last["last_record"], float(at))
        return str(kind), item


def _structured(data: Any, cls: type[Any]) -> Any:
    try:
        return structure(data, cls)
    except SerializationError as e:
        raise _DamageError(str(e)) from e


def _read_from(fd: int, start: int, size: int) -> bytes:
    chunks: list[bytes] = []
    position = start
    while position < size:
        chunk = os.pread(fd, min(size - position, 1 << 22), position)
        if not chunk:
            break
        chunks.append(chunk)
        position += len(chunk)
    return b"".join(chunks)


def _first_line(fd: int, size: int) -> bytes:
    """The file's first line with its newline; without one, what there is (up to a limit)."""
    data = b""
    limit = min(size, _MAX_HEADER)
    while len(data) < limit:
        chunk = os.pread(fd, min(1 << 16, limit - len(data)), len(data))
        if not chunk:
            break
        newline = chunk.find(b"\n")
        if newline >= 0:
            return data + chunk[: newline + 1]
        data += chunk
    return data


def _header_from(raw: bytes, path: Path) -> RunHeader:
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        record = None
    if not isinstance(record, Mapping):
        raise NotAStoreError(
            path,
            f"{path} is not a byop run store: its first line is not a {STORE_FORMAT!r} header.",
        )
    return header_from(record, path)
