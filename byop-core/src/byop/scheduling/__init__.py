"""Running tasks in parallel, driven by events.

A `Scheduler` runs `Task`s on a back end (processes, threads, in this thread, or any
`concurrent.futures.Executor`; Dask, Ray and Slurm arrive as plugins). `Trial.Task` (a
`TrialTask`) runs an objective on trials and emits each trial's report.

For back-end authors: a back end fulfils the `Backend` protocol. One whose engine hands back a
future per call subclasses `FutureBackend`. One over another engine runs each call in a
`Sandbox` on the engine's worker (`PackedFunction`, `PackedFunctions`, `pack_call`,
`run_packed`, `unpickle_outcome`), to keep the process back end's limits and crash isolation
there. `byop.testing.BackendConformance` checks a back end.
"""

from __future__ import annotations

from byop.scheduling._backend import Backend, check_picklable
from byop.scheduling._call import Call, CallState
from byop.scheduling._errors import (
    CallCancelledError,
    NotPicklableError,
    SchedulerNotRunningError,
    UnknownBackendError,
    WorkerDiedError,
)
from byop.scheduling._events import Event, Subscription
from byop.scheduling._futures import ExecutorBackend, FutureBackend, thread_backend
from byop.scheduling._inbox import Inbox
from byop.scheduling._limits import (
    CPUTimeLimitExceeded,
    Limits,
    MemoryLimitExceeded,
    WallTimeLimitExceeded,
    parse_memory,
)
from byop.scheduling._names import function_label
from byop.scheduling._packing import (
    PackedFunction,
    PackedFunctions,
    pack_call,
    unpickle_outcome,
)
from byop.scheduling._policy import Action, FailurePolicy
from byop.scheduling._process import ProcessBackend
from byop.scheduling._sandbox import Sandbox, run_packed
from byop.scheduling._scheduler import ExitStatus, Scheduler
from byop.scheduling._sequential import SequentialBackend
from byop.scheduling._stop import (
    AllOf,
    AnyOf,
    MaxTrials,
    NoImprovement,
    Predicate,
    StopCriterion,
    TargetCost,
    Timeout,
)
from byop.scheduling._task import Task
from byop.scheduling._threads import WorkerThreads
from byop.scheduling._trial_task import TrialRunner, TrialTask

__all__ = [
    "Action",
    "AllOf",
    "AnyOf",
    "Backend",
    "CPUTimeLimitExceeded",
    "Call",
    "CallCancelledError",
    "CallState",
    "Event",
    "ExecutorBackend",
    "ExitStatus",
    "FailurePolicy",
    "FutureBackend",
    "Inbox",
    "Limits",
    "MaxTrials",
    "MemoryLimitExceeded",
    "NoImprovement",
    "NotPicklableError",
    "PackedFunction",
    "PackedFunctions",
    "Predicate",
    "ProcessBackend",
    "Sandbox",
    "Scheduler",
    "SchedulerNotRunningError",
    "SequentialBackend",
    "StopCriterion",
    "Subscription",
    "TargetCost",
    "Task",
    "Timeout",
    "TrialRunner",
    "TrialTask",
    "UnknownBackendError",
    "WallTimeLimitExceeded",
    "WorkerDiedError",
    "WorkerThreads",
    "check_picklable",
    "function_label",
    "pack_call",
    "parse_memory",
    "run_packed",
    "thread_backend",
    "unpickle_outcome",
]
