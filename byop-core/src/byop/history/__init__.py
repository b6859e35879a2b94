"""What a run did: its `History`, the run store that keeps it on disk, and its progress.

`History` collects reports (best trial, best-so-far trace, filters, a pandas DataFrame). A run
store (`RunStore`, read with `read_store`) is an append-only file of JSON lines that the run's
main process writes as each trial starts and reports, so a run that dies can be resumed.
`StoreFollower` reads a store as it grows, only what was appended since it last looked.
`Progress` shows a run's progress on a terminal, `summary` sums a history up, and
`plot_trace` plots its best-so-far trace (matplotlib, ``pip install byop[plot]``).

Example:
    ```python
    from byop.history import History
    from byop.optimization import Trial

    history = History()
    for i, x in enumerate([3.0, -1.0, 2.0]):
        trial = Trial(name=f"t{i}", config={"x": x})
        history.add(trial.success(cost=x * x))

    assert history.best().trial.name == "t1"
    assert [p.best for p in history.trace()] == [9.0, 1.0, 1.0]
    ```
"""

from __future__ import annotations

from byop.history._errors import (
    CorruptStoreError,
    DuplicateReportError,
    NoBestTrialError,
    NotAStoreError,
    SeveralMetricsError,
    StoreError,
    StoreExistsError,
    StoreLockedError,
    StoreMismatchError,
    StorePermissionError,
    StoreVersionError,
)
from byop.history._follow import StoreFollower, StoreUpdate
from byop.history._history import CONFIG_PREFIX, RESULTS_PREFIX, History, TracePoint
from byop.history._pareto import ParetoFront, describe_front, front_status, pareto_front
from byop.history._pareto_plot import plot_pareto
from byop.history._plot import plot_trace
from byop.history._progress import Progress, ProgressMode
from byop.history._reading import read_store, repair_store
from byop.history._records import (
    STORE_FORMAT,
    STORE_VERSION,
    RunHeader,
    RunLimits,
    Session,
    StoredRun,
)
from byop.history._summary import format_duration, summary
from byop.history._writing import RunStore

__all__ = [
    "CONFIG_PREFIX",
    "RESULTS_PREFIX",
    "STORE_FORMAT",
    "STORE_VERSION",
    "CorruptStoreError",
    "DuplicateReportError",
    "History",
    "NoBestTrialError",
    "NotAStoreError",
    "ParetoFront",
    "Progress",
    "ProgressMode",
    "RunHeader",
    "RunLimits",
    "RunStore",
    "Session",
    "SeveralMetricsError",
    "StoreError",
    "StoreExistsError",
    "StoreFollower",
    "StoreLockedError",
    "StoreMismatchError",
    "StorePermissionError",
    "StoreUpdate",
    "StoreVersionError",
    "StoredRun",
    "TracePoint",
    "describe_front",
    "format_duration",
    "front_status",
    "pareto_front",
    "plot_pareto",
    "plot_trace",
    "read_store",
    "repair_store",
    "summary",
]
