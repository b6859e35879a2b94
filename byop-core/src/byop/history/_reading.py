"""Reading a run store: every intact record, what was damaged, and repairing it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from byop.history._errors import CorruptStoreError, NotAStoreError, StoreVersionError
from byop.history._files import locked
from byop.history._records import (
    KINDS,
    STORE_FORMAT,
    STORE_VERSION,
    RunHeader,
    RunLimits,
    Session,
    StoredRun,
    encode,
    header_record,
)
from byop.optimization import Report, Trial
from byop.serialization import SerializationError, from_json, structure


class _DamageError(Exception):
    """A record that cannot be read; the message says why."""


def header_from(record: Mapping[str, Any], path: Path) -> RunHeader:
    """The run header of a store's first record, checked (a follower reads it too)."""
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
        return structure(header_data(record.get("run")), RunHeader)
    except SerializationError as e:
        raise NotAStoreError(path, f"{path} has a damaged run header: {e}") from e


def _limits(record: dict[str, Any]) -> RunLimits:
    # Stores written before the run limits were renamed call them "budget".
    data = record.get("limits", record.get("budget"))
    try:
        return structure(data or {}, RunLimits)
    except SerializationError as e:
        raise _DamageError(f"invalid run limits: {e}") from e


def header_data(data: Any) -> Any:
    """A header record's run, with the run limits under their name of today.

    Stores written before the run limits were renamed call them ``budget``.
    """
    if isinstance(data, dict) and "budget" in data and "limits" not in data:
        data = {("limits" if k == "budget" else k): v for k, v in data.items()}
    return data


def _curve(data: Any) -> list[tuple[float, dict[str, Any]]]:
    """A report record's ``progress``: ``[[step, {values}], ...]``; what is malformed is left."""
    if not isinstance(data, list):
        return []
    return [
        (item[0], dict(item[1]))
        for item in data
        if isinstance(item, list)
        and len(item) == 2
        and isinstance(item[0], int | float)
        and isinstance(item[1], dict)
    ]


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
        if kind not in KINDS or kind == "header":
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
                "limits": _limits(record),
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
            curve = _curve(record.get("progress"))
            if curve:
                self.run.progress[name] = curve
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
                record = from_json(raw)
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
        first = from_json(raw)
    except (UnicodeDecodeError, ValueError):
        raise NotAStoreError(
            path, f"{path} is not a byop run store: its first line is not a JSON header."
        ) from None
    if not isinstance(first, dict):
        raise NotAStoreError(
            path, f"{path} is not a byop run store: its first line is not a run header."
        )
    return StoredRun(path=path, header=header_from(first, path))


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
    with locked(path):
        shutil.copy2(path, backup)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.repair")
        with tmp.open("wb") as out:
            out.write(encode(header_record(run.header)))
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
            reader.take(from_json(raw))
        except (UnicodeDecodeError, ValueError, _DamageError):
            continue
        out.append(raw + b"\n")
    return out
