"""Ask-and-tell optimization.

An `Optimizer` is asked for a `Trial`, the trial is run, and the optimizer is told the
`Trial.Report`. `RandomSearch` is built in; SMAC, Optuna and others arrive as plugins and are
created by name with `create_optimizer`. Running many trials in parallel, under a budget and
limits, stored and resumable, is `byop.run.optimize`.

A trial that runs in another process crosses back as a `ReportPayload` (`Report.payload`),
which the process that owns the trial turns into its report with `Trial.receive`.
"""

from __future__ import annotations

from byop.optimization._create import (
    UnknownOptimizerError,
    available_optimizers,
    create_optimizer,
)
from byop.optimization._errors import (
    InvalidReportError,
    NoReportError,
    OptimizerExhaustedError,
    TrialAlreadyReportedError,
    TrialFailedError,
    UnknownTrialError,
)
from byop.optimization._exceptions import (
    ForeignException,
    exception_key,
    portable,
    qualified_name,
)
from byop.optimization._hyperband import ASHA, Hyperband, SuccessiveHalving
from byop.optimization._multifidelity import MFTrialInfo, MultiFidelityOptimizer
from byop.optimization._optimizer import (
    Fidelity,
    Metric,
    Optimizer,
    SupportsRestore,
    as_fidelities,
    as_metrics,
    as_seed,
)
from byop.optimization._pending import PendingTrials
from byop.optimization._random_search import RandomSearch, RSTrialInfo
from byop.optimization._random_state import GENERATORS, IsolatedRandomState
from byop.optimization._report import (
    CrashReport,
    FailReport,
    Report,
    ReportPayload,
    ReportStatus,
    SuccessReport,
)
from byop.optimization._time import TimeInterval, TimeKind
from byop.optimization._trial import Trial

__all__ = [
    "ASHA",
    "GENERATORS",
    "CrashReport",
    "FailReport",
    "Fidelity",
    "ForeignException",
    "Hyperband",
    "InvalidReportError",
    "IsolatedRandomState",
    "MFTrialInfo",
    "Metric",
    "MultiFidelityOptimizer",
    "NoReportError",
    "Optimizer",
    "OptimizerExhaustedError",
    "PendingTrials",
    "RSTrialInfo",
    "RandomSearch",
    "Report",
    "ReportPayload",
    "ReportStatus",
    "SuccessReport",
    "SuccessiveHalving",
    "SupportsRestore",
    "TimeInterval",
    "TimeKind",
    "Trial",
    "TrialAlreadyReportedError",
    "TrialFailedError",
    "UnknownOptimizerError",
    "UnknownTrialError",
    "as_fidelities",
    "as_metrics",
    "as_seed",
    "available_optimizers",
    "create_optimizer",
    "exception_key",
    "portable",
    "qualified_name",
]
