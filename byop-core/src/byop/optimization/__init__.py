"""Ask-and-tell optimization.

An `Optimizer` is asked for a `Trial`, the trial is run, and the optimizer is told the
`Trial.Report`. `RandomSearch` is built in; SMAC, Optuna and others arrive as plugins and are
created by name with `create_optimizer`. Running many trials in parallel, under a budget and
limits, stored and resumable, is `byop.run.optimize`.

A trial that runs in another process crosses back as a `ReportPayload` (`Report.payload`),
which the process that owns the trial turns into its report with `Trial.receive`.
"""

from __future__ import annotations

from byop.optimization._checks import (
    InvalidMetricValueError,
    MissingMetricError,
    check_metrics,
    is_finite_number,
    missing_metric,
    results_of,
)
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
    TrialPruned,
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
from byop.optimization._progress import ProgressLink
from byop.optimization._pruners import (
    MedianPruner,
    MissingProgressMetricError,
    NoPruner,
    Pruner,
    SuccessiveHalvingPruner,
    available_pruners,
    create_pruner,
)
from byop.optimization._random_search import RandomSearch, RSTrialInfo
from byop.optimization._random_state import GENERATORS, IsolatedRandomState
from byop.optimization._report import (
    CrashReport,
    FailReport,
    PrunedReport,
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
    "InvalidMetricValueError",
    "InvalidReportError",
    "IsolatedRandomState",
    "MFTrialInfo",
    "MedianPruner",
    "Metric",
    "MissingMetricError",
    "MissingProgressMetricError",
    "MultiFidelityOptimizer",
    "NoPruner",
    "NoReportError",
    "Optimizer",
    "OptimizerExhaustedError",
    "PendingTrials",
    "ProgressLink",
    "PrunedReport",
    "Pruner",
    "RSTrialInfo",
    "RandomSearch",
    "Report",
    "ReportPayload",
    "ReportStatus",
    "SuccessReport",
    "SuccessiveHalving",
    "SuccessiveHalvingPruner",
    "SupportsRestore",
    "TimeInterval",
    "TimeKind",
    "Trial",
    "TrialAlreadyReportedError",
    "TrialFailedError",
    "TrialPruned",
    "UnknownOptimizerError",
    "UnknownTrialError",
    "as_fidelities",
    "as_metrics",
    "as_seed",
    "available_optimizers",
    "available_pruners",
    "check_metrics",
    "create_optimizer",
    "create_pruner",
    "exception_key",
    "is_finite_number",
    "missing_metric",
    "portable",
    "qualified_name",
    "results_of",
]
