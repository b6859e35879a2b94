"""Ask-and-tell optimization.

An `Optimizer` is asked for a `Trial`, the trial is run, and the optimizer is told the
`Trial.Report`. `RandomSearch` is built in; SMAC, Optuna and others arrive as plugins and are
created by name with `create_optimizer`. `optimize` does it all in one call: parallel trials
under a budget and limits, a progress display, and a stored run that can be resumed.
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
    TrialAlreadyReportedError,
    UnknownTrialError,
)
from byop.optimization._exceptions import ForeignException
from byop.optimization._optimize import NoBudgetError, ResumeNotSupportedError, optimize
from byop.optimization._optimizer import Metric, Optimizer, SupportsRestore, as_metrics
from byop.optimization._pending import PendingTrials
from byop.optimization._random_search import RandomSearch, RSTrialInfo
from byop.optimization._time import TimeInterval, TimeKind
from byop.optimization._trial import (
    CrashReport,
    FailReport,
    Report,
    ReportStatus,
    SuccessReport,
    Trial,
)

__all__ = [
    "CrashReport",
    "FailReport",
    "ForeignException",
    "InvalidReportError",
    "Metric",
    "NoBudgetError",
    "NoReportError",
    "Optimizer",
    "PendingTrials",
    "RSTrialInfo",
    "RandomSearch",
    "Report",
    "ReportStatus",
    "ResumeNotSupportedError",
    "SuccessReport",
    "SupportsRestore",
    "TimeInterval",
    "TimeKind",
    "Trial",
    "TrialAlreadyReportedError",
    "UnknownOptimizerError",
    "UnknownTrialError",
    "as_metrics",
    "available_optimizers",
    "create_optimizer",
    "optimize",
]
