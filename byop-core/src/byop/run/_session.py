"""One session of `optimize`: the guide's event loop, with a store, progress and resuming."""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from byop.history import History, Progress, RunStore, StoredRun
from byop.optimization import (
    OptimizerExhaustedError,
    Pruner,
    Report,
    ReportStatus,
    SupportsRestore,
    Trial,
    check_metrics,
    create_optimizer,
    create_pruner,
    missing_metric,
)
from byop.run import _resume, _stopping
from byop.run._callbacks import Callbacks, RunEnd
from byop.run._errors import ResumeNotSupportedError
from byop.run._interrupts import AtOnce, Interrupts
from byop.run._keywords import explain_factory_error
from byop.run._settings import RunSettings
from byop.scheduling import CallCancelledError, Scheduler, StopCriterion, TrialTask

logger = logging.getLogger("byop.run")


class RunSession:
    """The state the callbacks of one `optimize` call share.

    Args:
        settings: What the run was asked to do.
    """

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.finished = 0  # reports counted towards max_trials, earlier sessions included
        self.running = 0  # trials submitted in this session and not yet reported
        self.reruns: deque[Trial[Any]] = deque()
        self.rerun_names: set[str] = set()
        self.reruns_out = 0  # re-runs submitted and not yet reported
        self.exhausted = False
        self.cut_off: list[str] = []
        self.still_running = 0  # cut off, but running on in a thread that cannot be stopped
        self.replaced_empty = False  # the store was an empty file, and a new run was made in it
        self.callbacks = Callbacks(settings.callbacks)
        self.criterion = settings.stop_when
        self.stopping = False  # a stop criterion was met: launch nothing more
        self.stop_reason: str | None = None
        self.interrupts = Interrupts()
        self.succeeded = False  # a success was reported (this session or an earlier one)
        # Set when the run starts.
        self.optimizer: Any = None
        self.pruner: Pruner | None = None
        self.curves: dict[str, list[tuple[float, dict[str, Any]]]] = {}  # running trials' progress
        self.store: RunStore | None = None
        self.history: History
        self.progress: Progress
        self.task: TrialTask
        self.scheduler: Scheduler

    # ------------------------------------------------------------------ setting up
    def _make_optimizer(self, seed: int | None) -> Any:
        settings = self.settings
        if not isinstance(settings.optimizer, str):
            return settings.optimizer
        kwargs = dict(settings.optimizer_options)
        if settings.metrics_given:
            kwargs["metrics"] = settings.metrics
        if settings.fidelities:
            kwargs["fidelities"] = settings.fidelities
        try:
            return create_optimizer(settings.optimizer, space=settings.space, seed=seed, **kwargs)
        except TypeError as e:
            explained = explain_factory_error(e, settings.optimizer, settings.optimizer_options)
            if explained is None:
                raise
            raise explained from e

    def _scheduler(self) -> Scheduler:
        backend = self.settings.backend
        if isinstance(backend, Scheduler):
            return backend
        return Scheduler.with_backend(
            backend, n_workers=self.settings.n_workers, **self.settings.backend_options
        )

    def _prepare(self) -> tuple[Scheduler, Any, RunStore | None, StoredRun | None]:
        """The scheduler, the optimizer (restored), and the store (opened), in that order.

        Everything that can be refused is checked before the store is touched: a bad back end,
        a store of another run, an optimizer that cannot resume.
        """
        settings = self.settings
        scheduler = self._scheduler()
        stored = _resume.stored_run(settings)
        self.replaced_empty = stored is None and _resume.is_empty_file(settings.store)
        seed = settings.seed
        if stored is not None and seed is None:
            seed = stored.header.seed
        optimizer = self._make_optimizer(seed)
        if stored is not None and stored.reports and not isinstance(optimizer, SupportsRestore):
            raise ResumeNotSupportedError(
                f"{stored.path} holds {len(stored.reports)} reports, but the optimizer "
                f"{type(optimizer).__name__} has no restore() to take them, so the run cannot "
                "be resumed with it. Start a new run with a new store path, or use an "
                "optimizer that supports resuming (random_search, smac, optuna)."
            )
        store: RunStore | None = None
        if settings.store is not None:
            if stored is None:
                store = RunStore.create(settings.store, _resume.header(settings, optimizer))
            else:
                store, stored = RunStore.reopen(settings.store, limits=settings.run_limits)
        if stored is not None:
            # A success stored with a value no optimizer takes (NaN, a string: as byop stored
            # them before it checked) is restored as the failure it is.
            stored.reports[:] = [check_metrics(r, settings.metrics) for r in stored.reports]
            try:
                if stored.reports:
                    optimizer.restore(stored.reports)
                self.reruns = _resume.reruns(stored, settings.run_limits.max_trials)
                self.rerun_names = {trial.name for trial in self.reruns}
            except BaseException:
                if store is not None:
                    store.close()
                raise
        return scheduler, optimizer, store, stored

    # ------------------------------------------------------------------ running
    def run(self) -> History:
        """Run to the run limits; the run's history.

        Raises:
            KeyboardInterrupt: Ctrl-C (after the clean-up, or at once on a second Ctrl-C).
        """
        with self.interrupts:
            try:
                return self._run()
            except AtOnce:
                raise self._interrupted(at_once=True) from None

    def _run(self) -> History:
        settings = self.settings
        limits = settings.run_limits
        scheduler, optimizer, store, stored = self._prepare()
        earlier: list[Report[Any]] = [] if stored is None else list(stored.reports)
        self.history = History(earlier, metrics=settings.metrics)
        self.succeeded = any(r.status is ReportStatus.SUCCESS for r in earlier)
        self.finished = len(earlier)
        self.optimizer = optimizer
        if settings.pruner is not None:
            self.pruner = pruner = create_pruner(settings.pruner, metric=settings.metrics[0])
            for report in earlier:  # the earlier sessions' trials, as the pruner saw them
                for step, values in stored.progress.get(report.trial.name, ()) if stored else ():
                    pruner.should_stop(report.trial, step, values)
                pruner.tell(report)
        self.store = store
        self.progress = Progress(
            total=limits.max_trials,
            timeout=limits.timeout,
            metrics=settings.metrics,
            mode=settings.progress,
            title=f"byop {settings.optimizer_name}",
            history=earlier,
        )
        remaining_time = limits.timeout
        if remaining_time is not None and stored is not None:
            remaining_time -= stored.time_used
        status: str | None = None
        if limits.max_trials is not None and self.finished >= limits.max_trials:
            status = "exhausted"
        elif remaining_time is not None and remaining_time <= 0:
            status = "timeout"
        try:
            if status is None and self._met_before(earlier):
                status = "stopped"
            if status is None:
                status = self._loop(scheduler, remaining_time)
        except AtOnce:
            self._abandon()
            raise
        except KeyboardInterrupt:
            self.interrupts.seen()
            status = "interrupted"
            self.stop_reason = "Ctrl-C"
        except BaseException as e:
            self._close(f"error: {type(e).__name__}: {e}")
            raise
        self._close(status)
        if status == "interrupted":
            raise self._interrupted(at_once=False)
        return self.history

    def _met_before(self, earlier: list[Report[Any]]) -> bool:
        """Feed the stored reports to the stop criterion; whether it is met already."""
        criterion = self.criterion
        if criterion is None:
            return False
        for report in earlier:
            if self._met(criterion, report):
                self.stop_reason = f"{self.stop_reason} (by the stored reports)"
                return True
        return False

    def _interrupted(self, *, at_once: bool) -> KeyboardInterrupt:
        """The error for Ctrl-C: one line on what happened and how to resume."""
        store = self.settings.store
        done = self.finished
        how = "stopped at once by a second Ctrl-C" if at_once else "interrupted"
        if store is not None:
            hint = (
                f"byop: run {how} after {done} trials; to resume it, call optimize() again "
                f"with store={str(store)!r}"
            )
        else:
            hint = (
                f"byop: run {how} after {done} trials, kept in this exception's .history; "
                "pass store= to optimize() to be able to resume a run"
            )
        error = KeyboardInterrupt(hint)
        history = getattr(self, "history", None)
        error.history = History(metrics=self.settings.metrics) if history is None else history  # type: ignore[attr-defined]
        error.store = store  # type: ignore[attr-defined]
        return error

    def _abandon(self) -> None:
        """A second Ctrl-C: close the store's file (no end record) and the display, no more."""
        if self.store is not None and not self.store.closed:
            self.store.close()
        progress = getattr(self, "progress", None)
        if progress is not None:
            progress.close(show_summary=False)

    def _close(self, status: str) -> None:
        """End the store's session, tell the callbacks, close the display with the summary."""
        try:
            self._end_store(status)
            self.callbacks.end(
                RunEnd(
                    history=self.history,
                    status=status,
                    reason=self.stop_reason,
                    store=self.settings.store,
                )
            )
        except AtOnce:
            self._abandon()
            raise
        except BaseException:
            self.progress.close(details=self._details(status))
            raise
        self.progress.close(details=self._details(status))

    def _end_store(self, status: str) -> None:
        store = self.store
        if store is None:
            return
        try:
            if not store.closed:
                store.end(status)
        finally:
            store.close()

    def _details(self, status: str) -> dict[str, Any]:
        """The summary's lines after the best trial."""
        details: dict[str, Any] = {}
        store = self.store
        if store is not None:
            details["store"] = str(store.path) + (
                " (the file was empty: a new run was created in it)" if self.replaced_empty else ""
            )
        if status in ("stopped", "interrupted") and self.stop_reason:
            details[status] = self.stop_reason
        if self.cut_off:
            details["unfinished"] = f"{len(self.cut_off)} trials stopped by the end of the run" + (
                "; resuming runs them again" if store is not None else ""
            )
        if self.still_running:
            details["still running"] = (
                f"{self.still_running} of them in threads of this process, which cannot be "
                "stopped: they run on until their objective returns, or this process exits "
                "(use backend='processes' to have them stopped)"
            )
        errors = self.callbacks.summary()
        if errors:
            details["callback errors"] = errors
        return details

    def _loop(self, scheduler: Scheduler, remaining_time: float | None) -> str:
        limits = self.settings.limits
        self.task = TrialTask(
            self.settings.objective,
            scheduler,
            memory_limit=None if limits is None else limits.memory,
            cpu_time_limit=None if limits is None else limits.cpu_time,
            wall_time_limit=None if limits is None else limits.wall_time,
            metrics=[m.name for m in self.settings.metrics],
        )
        self.scheduler = scheduler
        scheduler.on_start(self._fill)
        self.task.on_report(self._on_report)
        if self.pruner is not None or callable(getattr(self.optimizer, "should_stop", None)):
            self.task.progress_judge = self._judge
        _stopping.start(self.criterion)
        self.progress.start()
        timeout = None if remaining_time is None else max(remaining_time, 1e-3)
        status = scheduler.run(timeout=timeout, wait=False)
        if self.stop_reason is None and status.value == "stopped":
            self.stop_reason = scheduler.stop_reason
        return str(status.value)

    def _launch(self) -> bool:
        """Submit one trial (a re-run first, else a new one) if the budget allows."""
        max_trials = self.settings.run_limits.max_trials
        if self.stopping or (max_trials is not None and self.finished + self.running >= max_trials):
            return False
        if self.reruns:
            trial = self.reruns.popleft()
            rerun = True
        elif self.reruns_out or self.exhausted:
            # Ask nothing new until the re-runs are told: the optimizer could otherwise hand
            # out a trial named like one still running.
            return False
        else:
            try:
                trial = self.optimizer.ask()
            except OptimizerExhaustedError:
                self.exhausted = True
                return False
            rerun = False
            if self.settings.fidelities and not trial.fidelities:
                self._give_fidelities(trial)
        if self.task(trial) is None:
            return False
        self.running += 1
        self.reruns_out += rerun
        if self.store is not None:
            self.store.started(trial)
        return True

    def _give_fidelities(self, trial: Trial[Any]) -> None:
        """Declared fidelities for a trial its optimizer (an object) gave none: the maximum.

        An optimizer given as an object was not told the fidelities; its trials are evaluated
        at their full values (at its ``budget``, when it set one and there is one fidelity).
        """
        declared = self.settings.fidelities
        if len(declared) == 1 and trial.budget is not None:
            trial.fidelities = {declared[0].name: trial.budget}
            return
        trial.fidelities = {f.name: f.clip(f.high) for f in declared}
        if len(declared) == 1:
            trial.budget = trial.fidelities[declared[0].name]

    def _fill(self) -> None:
        while self.running < self.settings.n_workers and self._launch():
            pass

    def _on_report(self, report: Report[Any]) -> None:
        self.running -= 1
        name = report.trial.name
        with self.task.progress_lock:
            curve = self.curves.pop(name, None)
        rerun = name in self.rerun_names
        if rerun:
            self.reruns_out -= 1
        if isinstance(report.exception, CallCancelledError):
            self.cut_off.append(name)  # stopped by the end of the run: a resume runs it again
            self.still_running += report.exception.still_running
            return
        metrics = self.settings.metrics
        if not self.succeeded and report.status is ReportStatus.SUCCESS:
            missing = missing_metric(report, metrics)
            if missing is not None:
                # Every later trial would lack it too: stop now, not after the whole budget.
                # The report is not stored: a resume, with the objective fixed, runs it again.
                raise missing
            self.succeeded = True
        report = check_metrics(report, metrics)
        if self.store is not None:
            # First: what the optimizer is told is never lost.
            self.store.reported(report, progress=curve)
        with self.task.progress_lock:  # never while a progress report is being judged
            if rerun:
                self.optimizer.restore([report])
            else:
                self.optimizer.tell(report)
            if self.pruner is not None:
                self.pruner.tell(report)
        self.history.add(report)
        self.progress.update(report)
        self.finished += 1
        self.callbacks.report(report)
        criterion = self.criterion
        if criterion is not None and not self.stopping and self._met(criterion, report):
            self.stopping = True
            self.scheduler.stop(reason=self.stop_reason)
            return
        self._fill()

    def _judge(self, trial: Trial[Any], step: float, values: dict[str, Any]) -> bool:
        """Whether a running trial should stop: the pruner's word, and the optimizer's.

        Both see every progress report (each keeps what it needs); either may stop the trial.
        """
        self.curves.setdefault(trial.name, []).append((step, values))
        stop = False
        if self.pruner is not None:
            stop = bool(self.pruner.should_stop(trial, step, values))
        hook = getattr(self.optimizer, "should_stop", None)
        if callable(hook):
            stop = bool(hook(trial, step, values)) or stop
        return stop

    def _met(self, criterion: StopCriterion, report: Report[Any]) -> bool:
        """Whether the criterion is met now; one that raises stops the run, cleanly."""
        try:
            criterion.update(report)
            if not criterion.met():
                return False
        except Exception as e:
            logger.error(
                "stop criterion %r raised %s on trial %s; stopping the run",
                criterion,
                type(e).__name__,
                report.trial.name,
                exc_info=e,
            )
            self.stop_reason = f"stop criterion {criterion!r} raised {type(e).__name__}: {e}"
            return True
        self.stop_reason = f"stop criterion met: {criterion!r}"
        return True
