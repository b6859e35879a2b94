"""Trials and reports, also importable as ``byop.optimization.trial``."""

from __future__ import annotations

from byop.optimization._report import CrashReport, FailReport, Report, ReportStatus, SuccessReport
from byop.optimization._trial import Trial

__all__ = ["CrashReport", "FailReport", "Report", "ReportStatus", "SuccessReport", "Trial"]
