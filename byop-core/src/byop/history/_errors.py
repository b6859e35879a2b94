"""Errors of histories and run stores. Each says what went wrong and what to do about it."""

from __future__ import annotations

from pathlib import Path


class DuplicateReportError(ValueError):
    """A report was added to a `History` that already holds a report of the same trial."""


class NoBestTrialError(LookupError):
    """No successful trial reported a usable value of the metric asked for."""

    def __str__(self) -> str:
        # LookupError would quote the message like a dictionary key.
        return str(self.args[0])


class SeveralMetricsError(ValueError):
    """`History.best` was asked for the best trial of a run with several metrics.

    With several metrics there is no single best trial: `History.pareto_front` holds those
    no other beats on every metric, and ``best(metric=...)`` the best by one of them.
    """


class StoreError(Exception):
    """Something is wrong with a run store; the subclasses say what.

    Attributes:
        path: The store's file.
    """

    def __init__(self, path: str | Path, message: str) -> None:
        super().__init__(message)
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.args[0])


class NotAStoreError(StoreError, ValueError):
    """The file is not a byop run store (its first line is no run header), or is empty."""


class StoreVersionError(StoreError, ValueError):
    """The store was written in a format this byop cannot read (a newer one)."""


class CorruptStoreError(StoreError, ValueError):
    """A record in the middle of the store cannot be read.

    A torn last line (a write the run died in) is not an error: reading drops it and records a
    problem. Damage with intact records after it is, because skipping it silently could lose a
    report. Read with ``recover=True`` to keep the records before the damage, or cut the store
    back to them with `repair_store`.

    Attributes:
        line: The line number (from 1) of the first damaged record.
        good_records: How many records before it were read intact.
    """

    def __init__(self, path: str | Path, message: str, *, line: int, good_records: int) -> None:
        super().__init__(path, message)
        self.line = line
        self.good_records = good_records


class StoreExistsError(StoreError, FileExistsError):
    """A new store was to be created where a store (or another file) already is."""


class StoreLockedError(StoreError, BlockingIOError):
    """Another process is writing to the store: only one process may write to a run."""


class StorePermissionError(StoreError, PermissionError):
    """The store (or its directory) cannot be written: the message names the store."""


class StoreMismatchError(StoreError, ValueError):
    """A run was resumed with settings (optimizer, seed, space, metrics) the store differs in."""
