"""The one-call path: `optimize` runs an objective in parallel under a budget, stored and resumable.

It is the guide's event loop (ask, submit, tell, ask again), with a store, a progress display
and resuming around it. Everything heavy is imported when `optimize` runs, so that importing
`byop.optimization` stays light.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from byop.optimization._optimizer import Metric, SupportsRestore, as_metrics
from byop.optimization._trial import Report, Trial

if TYPE_CHECKING:
    from pathlib import Path

    from byop.history import History, Progress, ProgressMode, RunHeader, RunStore, StoredRun
    from byop.scheduling import Scheduler, TrialTask


class NoBudgetError(ValueError):
    """`optimize` was called without a budget: neither ``max_trials`` nor ``timeout``."""


class ResumeNotSupportedError(TypeError):
    """A stored run was to be resumed with an optimizer that cannot take earlier reports."""


def optimize(
    objective: Callable[[Trial[Any]], Any],
    space: Any,
    *,
    optimizer: str | Any = "random_search",
    seed: int | None = None,
    n_workers: int = 1,
    backend: str | Scheduler = "processes",
    max_trials: int | None = None,
    timeout: float | None = None,
    memory_limit: int | float | str | None = None,
    cpu_time_limit: float | None = None,
    wall_time_limit: float | None = None,
    store: str | Path | None = None,
    progress: ProgressMode | bool = "auto",
    metrics: Metric | str | Iterable[Metric | str] | None = None,
    **optimizer_kwargs: Any,
) -> History:
    """Optimize ``objective`` over ``space`` until the budget is spent; returns the history.

    The optimizer is asked for trials, ``n_workers`` at a time; each runs ``objective(trial)``
    on the back end under the limits, and its report is stored, told to the optimizer, added
    to the history and shown on the progress display before the next trial is asked for.

    With a ``store``, every trial is recorded as it starts and as it reports. Calling
    `optimize` again with the same store resumes the run: the stored reports are restored
    (into the history and, through ``restore()``, the optimizer), the trials that were
    running when the run stopped are run again, and the run continues to its budget.

    Args:
        objective: ``objective(trial) -> report``: reads ``trial.config``, returns
            ``trial.success(cost=...)`` or ``trial.fail()``. For the ``processes`` back end it
            must be picklable: a function defined at the top level of a module or script.
        space: The search space (``searchable(...).space()``, a dictionary, or what the
            optimizer takes).
        optimizer: A registered optimizer's name (``"random_search"``, ``"smac"``,
            ``"optuna"``...), or an optimizer object (``ask``/``tell``).
        seed: The optimizer's seed. A resumed run keeps its stored seed.
        n_workers: How many trials run at once.
        backend: ``"processes"`` (isolated worker processes), ``"threads"``,
            ``"sequential"`` (in this thread), a back end registered by a plugin (created with
            ``n_workers=n_workers``), or a `Scheduler`.
        max_trials: How many trials may finish (successes, failures and crashes).
        timeout: Seconds the run may take, summed over resumes. Trials still running at the
            deadline are stopped and not counted: a resume runs them again.
        memory_limit: Bytes (or ``"512MB"``) a trial may add to its worker's memory.
        cpu_time_limit: Seconds of CPU time a trial may use.
        wall_time_limit: Seconds a trial may run.
        store: A file to store the run in (created with its directory), or to resume from.
        progress: ``"auto"`` (a live bar on a terminal, plain lines otherwise), ``"bar"``,
            ``"lines"`` or ``"off"`` (``True``/``False`` for auto/off).
        metrics: The metrics the objective reports (``cost`` minimised by default); the
            first ranks the trials.
        **optimizer_kwargs: Passed to the optimizer when it is created by name.

    Returns:
        The run's `History`: every finished trial, including those of earlier sessions.

    Raises:
        NoBudgetError: Neither ``max_trials`` nor ``timeout`` was given.
        byop.history.StoreMismatchError: The store holds a run with a different optimizer,
            seed, space or metrics.
        ResumeNotSupportedError: The store holds reports and the optimizer has no
            ``restore()``.
        byop.history.StoreError: The store cannot be read or written (see its subclasses).

    Example:
        ```python
        from byop.optimization import optimize

        def objective(trial):
            x = trial.config["x"]
            return trial.success(cost=(x - 1.0) ** 2)

        history = optimize(
            objective,
            {"x": (-5.0, 5.0)},
            seed=0,
            backend="threads",
            n_workers=2,
            max_trials=20,
            progress="off",
        )
        assert len(history) == 20
        assert history.best()["cost"] < 1.0
        ```
    """
    if max_trials is None and timeout is None:
        raise NoBudgetError(
            "optimize() needs a budget, or it would never end: pass max_trials= (how many "
            "trials may finish), timeout= (seconds), or both."
        )
    if max_trials is not None and (
        isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1
    ):
        raise ValueError(f"max_trials must be a positive int, got {max_trials!r}.")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive int, got {n_workers!r}.")
    declared = as_metrics(metrics)
    run = _Run(
        objective=objective,
        space=space,
        optimizer=optimizer,
        seed=seed,
        n_workers=n_workers,
        backend=backend,
        max_trials=max_trials,
        timeout=None if timeout is None else float(timeout),
        limits=(memory_limit, cpu_time_limit, wall_time_limit),
        store=None if store is None else _path(store),
        progress=progress,
        metrics=declared,
        metrics_given=metrics is not None,
        optimizer_kwargs=optimizer_kwargs,
    )
    return run.run()


def _qualified(fn: Any) -> str:
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return f"{module}.{name}" if module else name


def _is_cancelled(report: Report[Any]) -> bool:
    """Whether the trial was stopped by the end of the run (not a crash of its own)."""
    from byop.scheduling import CallCancelledError

    return isinstance(report.exception, CallCancelledError)


class _Run:
    """One session of `optimize`: the state its callbacks share."""

    def __init__(
        self,
        *,
        objective: Callable[[Trial[Any]], Any],
        space: Any,
        optimizer: str | Any,
        seed: int | None,
        n_workers: int,
        backend: str | Scheduler,
        max_trials: int | None,
        timeout: float | None,
        limits: tuple[int | float | str | None, float | None, float | None],
        store: Path | None,
        progress: ProgressMode | bool,
        metrics: tuple[Metric, ...],
        metrics_given: bool,
        optimizer_kwargs: dict[str, Any],
    ) -> None:
        self.objective = objective
        self.space = space
        self.optimizer_spec = optimizer
        self.seed = seed
        self.n_workers = n_workers
        self.backend = backend
        self.max_trials = max_trials
        self.timeout = timeout
        self.limits = limits
        self.store_path = store
        self.progress_mode = progress
        self.metrics = metrics
        self.metrics_given = metrics_given
        self.optimizer_kwargs = optimizer_kwargs

        self.finished = 0  # reports counted towards the budget, earlier sessions included
        self.running = 0  # trials submitted in this session and not yet reported
        self.reruns: deque[Trial[Any]] = deque()
        self.rerun_names: set[str] = set()
        self.reruns_out = 0  # re-runs submitted and not yet reported
        self.exhausted = False
        self.cut_off: list[str] = []
        # Set when the run starts.
        self.optimizer: Any = None
        self.store: RunStore | None = None
        self.history: History
        self.progress: Progress
        self.task: TrialTask

    # ------------------------------------------------------------------ setting up
    def _optimizer_name(self) -> str:
        spec = self.optimizer_spec
        return spec if isinstance(spec, str) else type(spec).__name__

    def _make_optimizer(self, seed: int | None) -> Any:
        spec = self.optimizer_spec
        if not isinstance(spec, str):
            if self.optimizer_kwargs:
                names = ", ".join(sorted(self.optimizer_kwargs))
                raise TypeError(
                    f"optimize() got keyword arguments for the optimizer ({names}), but the "
                    "optimizer was given as an object: pass them when creating it instead."
                )
            return spec
        from byop.optimization._create import create_optimizer

        kwargs = dict(self.optimizer_kwargs)
        if self.metrics_given:
            kwargs["metrics"] = self.metrics
        return create_optimizer(spec, space=self.space, seed=seed, **kwargs)

    def _header(self, optimizer: Any) -> RunHeader:
        from byop.history import Budget, RunHeader, describe

        seed = getattr(optimizer, "seed", self.seed)
        memory, cpu, wall = self.limits
        return RunHeader(
            optimizer=self._optimizer_name(),
            seed=seed if isinstance(seed, int) else self.seed,
            space=describe(self.space),
            metrics=self.metrics,
            budget=Budget(self.max_trials, self.timeout),
            objective=_qualified(self.objective),
            extra={
                "n_workers": self.n_workers,
                "backend": self.backend if isinstance(self.backend, str) else "scheduler",
                "memory_limit": memory,
                "cpu_time_limit": cpu,
                "wall_time_limit": wall,
            },
        )

    def _check(self, stored: StoredRun) -> None:
        """Refuse to resume a run with settings the store differs in."""
        import json
        import re

        from byop.history import StoreMismatchError, describe

        header = stored.header
        path = stored.path
        differences: list[str] = []
        if header.optimizer != self._optimizer_name():
            differences.append(
                f"optimizer: stored {header.optimizer!r}, given {self._optimizer_name()!r}"
            )
        if self.seed is not None and header.seed is not None and self.seed != header.seed:
            differences.append(f"seed: stored {header.seed}, given {self.seed}")

        def canonical(value: Any) -> str:
            # Without memory addresses: a repr that holds one differs in every process.
            text = json.dumps(value, sort_keys=True, default=repr)
            return re.sub(r" at 0x[0-9a-fA-F]+", "", text)

        if canonical(header.space) != canonical(json.loads(canonical(describe(self.space)))):
            differences.append("space: the given space differs from the stored one")
        if tuple(header.metrics) != tuple(self.metrics):
            stored_names = [(m.name, m.minimize) for m in header.metrics]
            given = [(m.name, m.minimize) for m in self.metrics]
            differences.append(f"metrics: stored {stored_names}, given {given}")
        if differences:
            raise StoreMismatchError(
                path,
                f"{path} holds a run with other settings, so it cannot be resumed with these: "
                + "; ".join(differences)
                + ". Resume it with the settings it was created with, or pass a new store path "
                "to start a new run.",
            )

    def _stored(self) -> StoredRun | None:
        """The run already in the store, checked against this call's settings; nothing written."""
        from byop.history import read_store

        path = self.store_path
        if path is None or (path.is_file() and path.stat().st_size == 0):
            return None
        if not path.exists():
            return None
        stored = read_store(path)
        self._check(stored)
        return stored

    def _scheduler(self) -> Scheduler:
        from byop.scheduling import Scheduler

        backend = self.backend
        if isinstance(backend, Scheduler):
            return backend
        if backend == "sequential":
            return Scheduler.with_sequential()
        return Scheduler.with_backend(backend, n_workers=self.n_workers)

    # ------------------------------------------------------------------ running
    def run(self) -> History:
        from byop.history import History, Progress

        scheduler, optimizer, store, stored = self._prepare()
        earlier: list[Report[Any]] = [] if stored is None else list(stored.reports)
        self.history = History(earlier, metrics=self.metrics)
        self.finished = len(earlier)
        self.optimizer = optimizer
        self.store = store
        self.progress = Progress(
            total=self.max_trials,
            timeout=self.timeout,
            metric=self.metrics[0],
            mode=self.progress_mode,
            title=f"byop {self._optimizer_name()}",
            history=earlier,
        )
        remaining_time = self.timeout
        if remaining_time is not None and stored is not None:
            remaining_time -= stored.time_used
        status: str | None = None
        if self.max_trials is not None and self.finished >= self.max_trials:
            status = "exhausted"
        elif remaining_time is not None and remaining_time <= 0:
            status = "timeout"
        try:
            if status is None:
                status = self._loop(scheduler, remaining_time)
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except BaseException as e:
            status = f"error: {type(e).__name__}: {e}"
            raise
        finally:
            self._close(status or "error")
        return self.history

    def _prepare(self) -> tuple[Scheduler, Any, RunStore | None, StoredRun | None]:
        """The scheduler, the optimizer (restored), and the store (opened), in that order.

        Everything that can be refused is checked before the store is touched: a bad back end,
        a store of another run, an optimizer that cannot resume.
        """
        from byop.history import Budget, RunStore

        scheduler = self._scheduler()
        stored = self._stored()
        seed = self.seed
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
        if self.store_path is not None:
            if stored is None:
                store = RunStore.create(self.store_path, self._header(optimizer))
            else:
                budget = Budget(self.max_trials, self.timeout)
                store, stored = RunStore.reopen(self.store_path, budget=budget)
        if stored is not None:
            try:
                self._restore(optimizer, stored)
            except BaseException:
                if store is not None:
                    store.close()
                raise
        return scheduler, optimizer, store, stored

    def _restore(self, optimizer: Any, stored: StoredRun) -> None:
        reports = stored.reports
        if reports:
            optimizer.restore(reports)
        in_flight = stored.in_flight
        if self.max_trials is not None:
            in_flight = in_flight[: max(0, self.max_trials - len(reports))]
        for trial in in_flight:
            self.reruns.append(
                Trial(trial.name, dict(trial.config), trial.info, trial.seed, trial.budget)
            )
            self.rerun_names.add(trial.name)

    def _close(self, status: str) -> None:
        """End the store's session with ``status``, and the progress display with a summary."""
        store = self.store
        details: dict[str, Any] = {}
        try:
            if store is not None:
                details["store"] = str(store.path)
                if not store.closed:
                    store.end(status)
        finally:
            if store is not None:
                store.close()
            if self.cut_off:
                details["unfinished"] = (
                    f"{len(self.cut_off)} trials stopped by the end of the run"
                    + ("; resuming runs them again" if store is not None else "")
                )
            self.progress.close(details=details)

    def _loop(self, scheduler: Scheduler, remaining_time: float | None) -> str:
        from byop.scheduling import TrialTask

        memory, cpu, wall = self.limits
        self.task = TrialTask(
            self.objective,
            scheduler,
            memory_limit=memory,
            cpu_time_limit=cpu,
            wall_time_limit=wall,
        )
        scheduler.on_start(self._fill)
        self.task.on_report(self._on_report)
        self.progress.start()
        timeout = None if remaining_time is None else max(remaining_time, 1e-3)
        try:
            status = scheduler.run(timeout=timeout, wait=False)
        finally:
            # run(wait=False) shuts the back end down only when calls were still running at
            # the end; shut it down in every case, so that no idle worker outlives the run.
            scheduler.backend.shutdown(cancel=True)
        return str(status.value)

    def _launch(self) -> bool:
        """Submit one trial (a re-run first, else a new one) if the budget allows."""
        if self.max_trials is not None and self.finished + self.running >= self.max_trials:
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
            except _exhausted_errors():
                self.exhausted = True
                return False
            rerun = False
        if self.task(trial) is None:
            return False
        self.running += 1
        self.reruns_out += rerun
        if self.store is not None:
            self.store.started(trial)
        return True

    def _fill(self) -> None:
        while self.running < self.n_workers and self._launch():
            pass

    def _on_report(self, report: Report[Any]) -> None:
        self.running -= 1
        name = report.trial.name
        rerun = name in self.rerun_names
        if rerun:
            self.reruns_out -= 1
        if _is_cancelled(report):
            self.cut_off.append(name)
            return
        if self.store is not None:
            self.store.reported(report)  # first: what the optimizer is told is never lost
        if rerun:
            self.optimizer.restore([report])
        else:
            self.optimizer.tell(report)
        self.history.add(report)
        self.progress.update(report)
        self.finished += 1
        self._fill()


def _exhausted_errors() -> tuple[type[BaseException], ...]:
    from byop.optimization._random_search import RandomSearch

    return (RandomSearch.ExhaustedError,)


def _path(store: str | Path) -> Path:
    from pathlib import Path

    return Path(store)
