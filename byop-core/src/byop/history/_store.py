"""The run store: an append-only file of JSON lines, one record a line.

Why JSON lines and not SQLite: the store has exactly one writer (the run's main process), so it
needs no locking between writers, and appending a line is the whole write path. That avoids
SQLite's file locks, which misbehave on the network file systems that clusters share, and
leaves a file that ``grep``, ``tail -f`` and ``jq`` can read while the run goes on. Each record
is written with one ``write`` call, so a process killed at any moment leaves every record it
wrote, plus at most one torn last line, which reading drops. By default each report is also
made durable with ``fdatasync`` before the run goes on (``started`` records ride along with the
next report's sync), so that a power cut loses no report either.

The records, in order:

- ``header``: the first line. The format name (``byop-run``) and version, and the run's
  metadata: optimizer name, seed, space, metrics, budget, objective, byop's version.
- ``session``: each time a process opens the store for writing (creation, each resume).
- ``started``: a trial submitted for evaluation, written before it is submitted.
- ``report``: a trial's report, written as it arrives, through byop's serialization.
- ``end``: the session ended normally, with why (a run that is killed writes none).

A trial that has a ``started`` record and no ``report`` was in flight when its run died;
resuming re-runs it. Reading never imports or runs anything named in the data.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
from attrs import define, field, frozen

from byop.history._errors import (
    CorruptStoreError,
    NotAStoreError,
    StoreError,
    StoreExistsError,
    StoreLockedError,
    StoreVersionError,
)
from byop.history._history import History
from byop.optimization import Metric, Report, Trial
from byop.serialization import SerializationError, plain, structure, unstructure

STORE_FORMAT = "byop-run"
"""The ``format`` of a store's header: what makes a file a byop run store."""

STORE_VERSION = 1
"""The version of the store format this byop writes and the newest it reads."""

_KINDS = ("header", "session", "started", "report", "end")


def _core_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("byop-core")
    except metadata.PackageNotFoundError:
        return None


def describe(value: Any) -> Any:
    """``value`` as plain JSON data that keeps the type of attrs objects (for run headers).

    attrs objects become ``{"type": ClassName, <public fields>}``, so that, for instance, a
    `Float` range and an `Integer` range with the same bounds describe differently. Anything
    else is `byop.serialization.plain` data.
    """
    if attrs.has(type(value)):
        out: dict[str, Any] = {"type": type(value).__name__}
        for f in attrs.fields(type(value)):
            if not f.name.startswith("_"):
                out[f.name] = describe(getattr(value, f.name))
        return out
    if isinstance(value, Mapping):
        return {str(k): describe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [describe(v) for v in value]
    return plain(value)


@frozen
class Budget:
    """What a run may spend: a number of trials, a time, or both.

    Attributes:
        max_trials: How many trials may finish (successes, failures and crashes alike).
        timeout: Seconds of wall-clock time, summed over every session of the run.
    """

    max_trials: int | None = None
    timeout: float | None = None


@frozen(kw_only=True)
class RunHeader:
    """What a run is, written once as the first record of its store.

    Attributes:
        optimizer: The optimizer's registered name (or its class's name).
        seed: The optimizer's seed.
        space: The space, described as plain data (see `describe`).
        metrics: The metrics the objective reports.
        budget: The budget the run was created with.
        objective: The objective's qualified name, for reference.
        created: When the run was created, seconds since the epoch.
        byop_version: The version of byop-core that created it.
        version: The store format's version.
        extra: Anything else worth keeping, as plain data.
    """

    optimizer: str
    seed: int | None = None
    space: Any = None
    metrics: tuple[Metric, ...] = (Metric(),)
    budget: Budget = Budget()
    objective: str | None = None
    created: float = field(factory=time.time)
    byop_version: str | None = field(factory=_core_version)
    version: int = STORE_VERSION
    extra: dict[str, Any] = field(factory=dict)


@frozen
class Session:
    """One process's stint of writing to a run.

    Attributes:
        number: From 1: the session that created the run is 1, each resume adds one.
        started: When it began, seconds since the epoch.
        last_record: When it wrote its last record.
        ended: When it ended normally; ``None`` if it died (or is still running).
        exit_status: Why it ended (e.g. ``"exhausted"``), when it ended normally.
        pid: The process id of the writer.
        budget: The budget it ran with.
    """

    number: int
    started: float
    last_record: float
    ended: float | None = None
    exit_status: str | None = None
    pid: int | None = None
    budget: Budget = Budget()

    @property
    def duration(self) -> float:
        """Seconds from the session's start to its end, or to its last record if it died."""
        end = self.ended if self.ended is not None else self.last_record
        return max(0.0, end - self.started)


@define
class StoredRun:
    """Everything read from a run store.

    Attributes:
        path: The store's file.
        header: The run's header.
        reports: Every report, in the order they were written.
        started: Every trial that was started, by name.
        sessions: The writing sessions, oldest first.
        problems: What reading dropped or skipped (a torn last line, damaged lines), in words.
        valid_bytes: The length of the file up to the end of its last intact record.
    """

    path: Path
    header: RunHeader
    reports: list[Report[Any]] = field(factory=list)
    started: dict[str, Trial[Any]] = field(factory=dict)
    sessions: list[Session] = field(factory=list)
    problems: list[str] = field(factory=list)
    valid_bytes: int = 0

    @property
    def in_flight(self) -> list[Trial[Any]]:
        """Trials started and never reported (in flight when the run stopped), oldest first."""
        done = {r.trial.name for r in self.reports}
        return [t for name, t in self.started.items() if name not in done]

    @property
    def history(self) -> History:
        """The reports as a `History`, with the run's metrics."""
        return History(self.reports, metrics=self.header.metrics)

    @property
    def time_used(self) -> float:
        """Wall-clock seconds the run has spent, summed over its sessions."""
        return sum(s.duration for s in self.sessions)

    @property
    def finished(self) -> bool:
        """Whether the last session ended normally (rather than dying)."""
        return bool(self.sessions) and self.sessions[-1].ended is not None


# ---------------------------------------------------------------------- reading
class _DamageError(Exception):
    """A record that cannot be read; the message says why."""


def _header_from(record: Mapping[str, Any], path: Path) -> RunHeader:
    if record.get("kind") != "header" or record.get("format") != STORE_FORMAT:
        raise NotAStoreError(
            path,
            f"{path} is not a byop run store: its first line is not a {STORE_FORMAT!r} header.",
        )
    version = record.get("version")
    if not isinstance(version, int) or version < 1:
        raise NotAStoreError(path, f"{path} has a run header without a valid format version.")
    if version > STORE_VERSION:
        raise StoreVersionError(
            path,
            f"{path} was written in store format {version}, newer than this byop reads "
            f"(up to {STORE_VERSION}); upgrade byop-core to read it.",
        )
    try:
        return structure(record.get("run"), RunHeader)
    except SerializationError as e:
        raise NotAStoreError(path, f"{path} has a damaged run header: {e}") from e


def _budget(data: Any) -> Budget:
    try:
        return structure(data or {}, Budget)
    except SerializationError as e:
        raise _DamageError(f"invalid budget: {e}") from e


class _Reader:
    """Folds records into a `StoredRun`."""

    def __init__(self, run: StoredRun) -> None:
        self.run = run
        self.reported: set[str] = set()
        self.session: dict[str, Any] | None = None
        self.sessions: list[dict[str, Any]] = []

    def take(self, record: Any) -> None:
        if not isinstance(record, dict):
            raise _DamageError(f"a record is a JSON object, found {type(record).__name__}")
        kind = record.get("kind")
        at = record.get("at")
        if kind not in _KINDS or kind == "header":
            raise _DamageError(f"unknown record kind {kind!r}")
        if not isinstance(at, int | float):
            raise _DamageError(f"{kind} record without a time")
        if kind == "session":
            pid = record.get("pid")
            self.session = {
                "number": len(self.sessions) + 1,
                "started": float(at),
                "last_record": float(at),
                "pid": pid if isinstance(pid, int) else None,
                "budget": _budget(record.get("budget")),
            }
            self.sessions.append(self.session)
            return
        if kind == "started":
            try:
                trial = structure(record.get("trial"), Trial)
            except SerializationError as e:
                raise _DamageError(str(e)) from e
            self.run.started[trial.name] = trial
        elif kind == "report":
            try:
                report = structure(record.get("report"), Report)
            except SerializationError as e:
                raise _DamageError(str(e)) from e
            name = report.trial.name
            if name in self.reported:
                raise _DamageError(f"a second report of trial {name!r}")
            self.reported.add(name)
            self.run.reports.append(report)
        elif kind == "end" and self.session is not None:
            status = record.get("status")
            self.session["ended"] = float(at)
            self.session["exit_status"] = None if status is None else str(status)
        if self.session is not None:
            self.session["last_record"] = max(self.session["last_record"], float(at))

    def finish(self) -> None:
        self.run.sessions = [Session(**s) for s in self.sessions]


def read_store(path: str | Path, *, recover: bool = False) -> StoredRun:
    """Read a run store: its header, reports, started trials and sessions.

    A torn last line (the write a run died in) is dropped and noted in ``problems``. A damaged
    line with intact lines after it raises `CorruptStoreError`, unless ``recover`` is true:
    then every damaged line is skipped (and noted) and every intact record kept.

    Args:
        path: The store's file.
        recover: Skip damaged lines in the middle instead of raising.

    Raises:
        FileNotFoundError: There is no such file.
        NotAStoreError: The file is empty, or its first line is not a run header.
        StoreVersionError: The store was written by a newer byop.
        CorruptStoreError: A line in the middle is damaged (and ``recover`` is false).

    Example:
        ```python
        import tempfile
        from pathlib import Path

        from byop.history import RunHeader, RunStore, read_store
        from byop.optimization import Trial

        path = Path(tempfile.mkdtemp()) / "run.jsonl"
        with RunStore.create(path, RunHeader(optimizer="manual")) as store:
            trial = Trial(name="t0", config={"x": 1.0})
            store.started(trial)
            store.reported(trial.success(cost=1.0))

        run = read_store(path)
        assert [r.trial.name for r in run.reports] == ["t0"] and run.in_flight == []
        ```
    """
    path = Path(path)
    if not path.is_file():
        if path.exists():
            raise NotAStoreError(path, f"{path} is not a file, so it is not a byop run store.")
        raise FileNotFoundError(f"No run store at {path}.")
    data = path.read_bytes()
    if not data.strip():
        raise NotAStoreError(path, f"{path} is empty: it is not a byop run store (yet).")
    lines = data.split(b"\n")
    # A file that ends in a newline splits into a last, empty piece; anything else there is a
    # line whose newline was never written: a torn write.
    torn_tail = lines.pop()
    run = _read_header(path, lines[0] if lines else torn_tail, complete=bool(lines))
    reader = _Reader(run)
    offset = len(lines[0]) + 1
    run.valid_bytes = offset
    good: list[int] = [1]  # line numbers of intact records
    damaged: list[tuple[int, str]] = []  # (line number, why)
    pending: list[tuple[int, str]] = []  # damage with no intact record after it (yet)
    for number, raw in enumerate(lines[1:], start=2):
        offset += len(raw) + 1
        if not raw.strip():
            continue
        try:
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise _DamageError(f"not JSON ({e})") from None
            reader.take(record)
        except _DamageError as e:
            pending.append((number, str(e)))
            continue
        good.append(number)
        damaged.extend(pending)  # intact records follow them: damage in the middle
        pending.clear()
        if not damaged:
            run.valid_bytes = offset
    if damaged:
        line, why = damaged[0]
        if not recover:
            before = sum(1 for n in good if n < line)
            raise CorruptStoreError(
                path,
                f"line {line} of {path} is damaged ({why}); the {before} records before it "
                "are intact. Read it with recover=True (byop runs show --recover) to skip "
                "damaged lines, or `byop runs repair` it to rewrite the store without them "
                "(keeping a copy).",
                line=line,
                good_records=before,
            )
        run.problems.extend(f"line {n}: skipped a damaged record ({why})" for n, why in damaged)
    # Damage at the end, with nothing intact after it: the write(s) the run stopped in.
    run.problems.extend(f"line {n}: dropped a damaged last record ({why})" for n, why in pending)
    if torn_tail.strip():
        run.problems.append(
            f"line {len(lines) + 1}: dropped a torn last record ({len(torn_tail)} bytes "
            "without a newline: the run stopped while writing it)"
        )
    reader.finish()
    return run


def _read_header(path: Path, raw: bytes, *, complete: bool) -> StoredRun:
    if not complete:
        raise NotAStoreError(
            path,
            f"{path} is not a byop run store: it holds no complete header line "
            "(a run that died while creating it leaves this; delete the file to start afresh).",
        )
    try:
        first = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise NotAStoreError(
            path, f"{path} is not a byop run store: its first line is not a JSON header."
        ) from None
    if not isinstance(first, dict):
        raise NotAStoreError(
            path, f"{path} is not a byop run store: its first line is not a run header."
        )
    return StoredRun(path=path, header=_header_from(first, path))


def repair_store(path: str | Path) -> StoredRun:
    """Rewrite a damaged store with only its intact records, keeping the original as ``.bak``.

    Returns:
        The repaired run, as read back.

    Raises:
        NotAStoreError: The file is not a run store at all (nothing to repair).
        StoreLockedError: A process is writing to the store.
    """
    path = Path(path)
    run = read_store(path, recover=True)
    backup = path.with_name(path.name + ".bak")
    with _locked(path):
        shutil.copy2(path, backup)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.repair")
        with tmp.open("wb") as out:
            out.write(_encode(_header_record(run.header)))
            for line in _intact_lines(path):
                out.write(line)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    return read_store(path)


def _intact_lines(path: Path) -> list[bytes]:
    """Every line after the header that reads as a valid record, with its newline."""
    lines = path.read_bytes().split(b"\n")
    lines.pop()  # the torn tail, or the empty piece after the last newline
    out: list[bytes] = []
    header = StoredRun(path=path, header=RunHeader(optimizer="-"))
    reader = _Reader(header)
    for raw in lines[1:]:
        try:
            reader.take(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError, _DamageError):
            continue
        out.append(raw + b"\n")
    return out


# ---------------------------------------------------------------------- writing
def _encode(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, default=plain, separators=(",", ":")) + "\n").encode("utf-8")


def _header_record(header: RunHeader) -> dict[str, Any]:
    return {
        "kind": "header",
        "format": STORE_FORMAT,
        "version": header.version,
        "at": header.created,
        "run": unstructure(header),
    }


def _lock(fd: int, path: Path) -> None:
    """Take the advisory lock that keeps a second process from writing to the same run."""
    if sys.platform == "win32":  # pragma: no cover - no flock there
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StoreLockedError(
            path,
            f"{path} is being written by another process; only one process may write to a "
            "run. Wait for it to finish, or stop it, before resuming.",
        ) from None
    except OSError:
        # File systems without locks (some network ones): go on unlocked.
        return


@contextlib.contextmanager
def _locked(path: Path) -> Any:
    fd = os.open(path, os.O_RDWR)
    try:
        _lock(fd, path)
        yield fd
    finally:
        os.close(fd)


def _sync(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


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
        budget: Budget | None = None,
        sync: bool = True,
    ) -> RunStore:
        """Create a new store at ``path`` (and its directory), and open it for writing.

        The header and first session record are written to a temporary file that is renamed
        into place, so a store either exists whole or not at all.

        Args:
            path: Where to create it. An empty file there is replaced.
            header: The run's header.
            budget: The budget of this session (``header.budget`` by default).
            sync: Whether each record is synced to disk before the write returns.

        Raises:
            StoreExistsError: A non-empty file is already at ``path``.
        """
        path = Path(path)
        if path.exists() and (not path.is_file() or path.stat().st_size > 0):
            raise StoreExistsError(
                path,
                f"{path} already exists. Resume the run stored there with RunStore.reopen "
                "(optimize(..., store=path) does so), or choose a new path.",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
        try:
            with tmp.open("wb") as out:
                out.write(_encode(_header_record(header)))
                out.write(_encode(_session_record(budget or header.budget)))
                out.flush()
                if sync:
                    _sync(out.fileno())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        if sync:
            _sync_directory(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            _lock(fd, path)
        except BaseException:
            os.close(fd)
            raise
        store = cls(path, fd, sync=sync)
        store.records_written = 2
        return store

    @classmethod
    def reopen(
        cls, path: str | Path, *, budget: Budget | None = None, sync: bool = True
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
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No run store at {path}.")
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        try:
            _lock(fd, path)
            run = read_store(path)
            if os.fstat(fd).st_size > run.valid_bytes:
                os.ftruncate(fd, run.valid_bytes)
            store = cls(path, fd, sync=sync)
            store._write(_session_record(budget or run.header.budget))
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

    def reported(self, report: Report[Any]) -> None:
        """Record a trial's report."""
        self._write({"kind": "report", "at": time.time(), "report": unstructure(report)})

    def end(self, status: str) -> None:
        """Record that this session ended normally, and why (e.g. ``"exhausted"``)."""
        self._write({"kind": "end", "at": time.time(), "status": str(status)})

    def _write(self, record: Mapping[str, Any], *, sync: bool | None = None) -> None:
        fd = self._fd
        if fd is None:
            raise StoreError(self.path, f"The run store {self.path} is closed; reopen it.")
        data = _encode(record)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self.sync if sync is None else sync:
                _sync(fd)
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


def _session_record(budget: Budget) -> dict[str, Any]:
    return {"kind": "session", "at": time.time(), "pid": os.getpid(), "budget": unstructure(budget)}


def _sync_directory(directory: Path) -> None:
    """Make a new directory entry durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
