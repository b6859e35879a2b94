"""The records of a run store, and the values read from them.

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
  metadata: optimizer name, seed, space, metrics, fidelities, run limits, objective, byop's version.
- ``session``: each time a process opens the store for writing (creation, each resume).
- ``started``: a trial submitted for evaluation, written as soon as the back end took it.
- ``report``: a trial's report, written as it arrives, through byop's serialization; in a run
  with a pruner, with the trial's intermediate results too (``progress``: ``[[step,
  {values}], ...]``), so that a resumed run's pruner knows them.
- ``end``: the session ended normally, with why (a run that is killed writes none).

A trial that has a ``started`` record and no ``report`` was in flight when its run died;
resuming re-runs it. Reading never imports or runs anything named in the data.

Every line is valid JSON that any tool reads: a non-finite float (a ``cost`` of ``inf`` or
``nan``) is written as ``{"$numberDouble": "Infinity"}`` (``"NaN"``, ``"-Infinity"``) and read
back as the float; the bare ``NaN`` / ``Infinity`` of stores written before read as well.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import define, field, frozen

from byop.history._history import History
from byop.optimization import Fidelity, Metric, Report, Trial
from byop.serialization import plain, to_json, unstructure

STORE_FORMAT = "byop-run"
"""The ``format`` of a store's header: what makes a file a byop run store."""

STORE_VERSION = 1
"""The version of the store format this byop writes and the newest it reads."""

KINDS = ("header", "session", "started", "report", "end")


def _core_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("byop-core")
    except metadata.PackageNotFoundError:
        return None


@frozen
class RunLimits:
    """How long a run may go on: a number of trials, a time, or both.

    (Not a trial's budget: that is the fidelity it is evaluated at, `Trial.budget`.)

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
        fidelities: The fidelities declared (none in stores written before they were).
        limits: The run limits the run was created with.
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
    fidelities: tuple[Fidelity, ...] = ()
    limits: RunLimits = RunLimits()
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
        limits: The run limits it ran with.
    """

    number: int
    started: float
    last_record: float
    ended: float | None = None
    exit_status: str | None = None
    pid: int | None = None
    limits: RunLimits = RunLimits()

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
        progress: Each trial's intermediate results (``trial.report_progress``), by name, as
            ``(step, values)`` in order, for the trials of runs with a pruner.
    """

    path: Path
    header: RunHeader
    reports: list[Report[Any]] = field(factory=list)
    started: dict[str, Trial[Any]] = field(factory=dict)
    sessions: list[Session] = field(factory=list)
    problems: list[str] = field(factory=list)
    valid_bytes: int = 0
    progress: dict[str, list[tuple[float, dict[str, Any]]]] = field(factory=dict)

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


def encode(record: Mapping[str, Any]) -> bytes:
    return (to_json(record, default=plain, separators=(",", ":")) + "\n").encode("utf-8")


def header_record(header: RunHeader) -> dict[str, Any]:
    return {
        "kind": "header",
        "format": STORE_FORMAT,
        "version": header.version,
        "at": header.created,
        "run": unstructure(header),
    }


def session_record(limits: RunLimits) -> dict[str, Any]:
    return {"kind": "session", "at": time.time(), "pid": os.getpid(), "limits": unstructure(limits)}
