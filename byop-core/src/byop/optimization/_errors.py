"""Errors of the optimization API. Each says what went wrong and what to do about it."""

from __future__ import annotations


class TrialAlreadyReportedError(RuntimeError):
    """A trial was ended (``success``, ``fail``, ``crashed``) when it already had a report."""


class TrialFailedError(RuntimeError):
    """``trial.success()`` was called after ``begin()`` caught an exception: the trial failed.

    Its ``__cause__`` is the exception ``begin()`` caught. End such a trial with
    ``trial.fail()``, whose report carries that exception and its traceback.
    """


class UnknownTrialError(ValueError):
    """A report was told to an optimizer that did not ask for its trial (or was told it twice)."""


class NoReportError(RuntimeError):
    """An objective returned without reporting (no ``trial.success()`` or ``trial.fail()``)."""


class InvalidReportError(TypeError):
    """An objective returned something that is not its trial's report."""


class OptimizerExhaustedError(RuntimeError):
    """An optimizer has no more trials to give: raised by ``ask()``.

    Any optimizer may raise it (or a subclass, as `RandomSearch.ExhaustedError` is) to say it
    is done; `byop.run.optimize` then ends the run as exhausted once the running trials report.
    """


class TrialPruned(Exception):  # noqa: N818  (named like Optuna's, which users know)
    """Raise it in an objective to end its trial as pruned (stopped early): a `PrunedReport`.

    ``trial.raise_if_pruned()`` raises it once a pruner or the optimizer said the trial should
    stop; an objective may also raise it on its own (a loss that diverged). ``trial.begin()``
    lets it through, and the runner turns it into the trial's `PrunedReport`, carrying the
    values of its last `Trial.report_progress`.
    """
