"""`optimize`: the one call that runs an optimization to its run limits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from byop.history import History, ProgressMode
from byop.optimization import Fidelity, Metric, Pruner, Trial
from byop.run._session import RunSession
from byop.run._settings import RunSettings
from byop.scheduling import Scheduler, StopCriterion


def optimize(
    objective: Callable[[Trial[Any]], Any],
    space: Any,
    *,
    optimizer: str | Any = "random_search",
    seed: int | None = None,
    n_workers: int = 1,
    backend: str | Scheduler = "processes",
    backend_options: Mapping[str, Any] | None = None,
    max_trials: int | None = None,
    timeout: float | None = None,
    memory_limit: int | float | str | None = None,
    cpu_time_limit: float | None = None,
    wall_time_limit: float | None = None,
    store: str | Path | None = None,
    progress: ProgressMode | bool = "auto",
    metrics: Metric | str | Iterable[Metric | str] | Mapping[str, str] | None = None,
    fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, tuple[float, float]] | None = None,
    pruner: str | Pruner | None = None,
    callbacks: Iterable[Any] | Callable[[Any], Any] | None = None,
    stop_when: StopCriterion | Callable[[Any], bool] | Iterable[Any] | None = None,
    **optimizer_options: Any,
) -> History:
    """Optimize ``objective`` over ``space`` until a run limit is reached; returns the history.

    The optimizer is asked for trials, ``n_workers`` at a time; each runs ``objective(trial)``
    on the back end under the limits, and its report is stored, told to the optimizer, added
    to the history and shown on the progress display before the next trial is asked for.

    With a ``store``, every trial is recorded as it starts and as it reports. Calling
    `optimize` again with the same store resumes the run: the stored reports are restored
    (into the history and, through ``restore()``, the optimizer), the trials that were
    running when the run stopped are run again, and the run continues to its run limits.

    Args:
        objective: ``objective(trial) -> report``: reads ``trial.config``, returns
            ``trial.success(cost=...)`` or ``trial.fail()``. On the ``processes`` back end it
            is pickled (by value when its module cannot be imported there, as for a lambda or
            a function of ``__main__``), so it must not hold locks, open files or connections.
        space: The search space (``searchable(...).space()``, a dictionary, or what the
            optimizer takes).
        optimizer: A registered optimizer's name (``"random_search"``, ``"smac"``,
            ``"optuna"``...), or an optimizer object (``ask``/``tell``).
        seed: The optimizer's seed. A resumed run keeps its stored seed.
        n_workers: How many trials run at once.
        backend: A registered back end's name (``"processes"``: isolated worker processes,
            ``"threads"``, ``"sequential"``: in this thread, or a plugin's: ``"dask"``,
            ``"ray"``...), created with ``n_workers`` and ``backend_options``; or a `Scheduler`.
        backend_options: Keyword options for the back end's factory (``{"address": ...}``).
        max_trials: How many trials may finish (successes, failures and crashes).
        timeout: Seconds the run may take, summed over resumes. Trials still running at the
            deadline are stopped and not counted: a resume runs them again. A thread cannot
            be stopped: on ``"threads"`` such a trial runs on until it returns, and the
            summary says so; on ``"sequential"`` the run returns once it returns.
        memory_limit: Bytes (or ``"512MB"``) a trial may add to its worker's memory.
        cpu_time_limit: Seconds of CPU time a trial may use.
        wall_time_limit: Seconds a trial may run.
        store: A file to store the run in (created with its directory), or to resume from.
            An empty file there holds no run: a new run is created in it, and the summary
            says so.
        progress: ``"auto"`` (a tqdm bar on a terminal or in a notebook, lines otherwise:
            messages of the ``byop.progress`` logger), ``"bar"``,
            ``"lines"`` or ``"off"`` (``True``/``False`` for auto/off).
        metrics: The metrics the objective reports (``cost`` minimised by default): names
            (minimised), `Metric` objects, or ``{"accuracy": "max", "latency": "min"}``. The
            first ranks the trials; with several, `History.pareto_front` holds the best
            trade-offs. The objective may also return a number (the one metric's value) or a
            dictionary of results instead of ``trial.success(...)``.
        fidelities: The fidelities the objective can be evaluated at (`Fidelity`, or
            ``{"epochs": (1, 27)}``), given to the optimizer: a multi-fidelity one
            (``"hyperband"``, ``"asha"``, ``"successive_halving"``, SMAC's Hyperband...)
            varies them, any other evaluates at their maximum. The objective reads them from
            ``trial.fidelities`` (and ``trial.budget`` when there is one).
        pruner: Stops unpromising trials early, from what they send with
            ``trial.report_progress(step, ...)``: a registered pruner's name (``"median"``,
            ``"asha"``, ``"optuna.median"``...) or a `byop.optimization.Pruner`. It judges the
            first metric; a stopped trial's report is a `PrunedReport`. An optimizer with its
            own ``should_stop(trial, step, values)`` is asked too.
        callbacks: Functions called with each report, or `Callback` objects (``on_report``,
            ``on_end``), called in the main process, in order, after the report is stored. A
            callback that raises is logged with its name, and the run goes on.
        stop_when: When to end the run before its budget: a stop criterion of
            `byop.scheduling` (``NoImprovement(50)``, ``TargetCost(0.01)``, ``MaxTrials(n)``,
            ``Timeout(s)``, combined with ``|`` and ``&``), a function ``fn(report) -> bool``,
            or a list of these (any). Checked as each report arrives; on a resumed run, the
            stored reports are fed to it first. Trials still running are stopped, and a
            resume runs them again.
        **optimizer_options: Passed to the optimizer's factory when it is created by name.

    Returns:
        The run's `History`: every finished trial, including those of earlier sessions.

    Ctrl-C stops the run's workers, ends the store's session as interrupted, prints the
    summary and raises `KeyboardInterrupt` with a message that says how to resume, and the
    run so far as its ``history`` attribute (its ``store`` attribute is the store's path). A
    second Ctrl-C skips the rest of that clean-up.

    Raises:
        NoRunLimitsError: Neither ``max_trials``, ``timeout`` nor ``stop_when`` was given.
        KeyboardInterrupt: Ctrl-C; its ``history`` attribute holds what the run did.
        byop.optimization.MissingMetricError: The first successful report lacks a declared
            metric (raised at once; the report is not stored).
        byop.history.StoreMismatchError: The store holds a run with a different optimizer,
            seed, space, metrics or fidelities.
        ResumeNotSupportedError: The store holds reports and the optimizer has no
            ``restore()``.
        byop.history.StoreError: The store cannot be read or written (see its subclasses;
            `byop.history.StorePermissionError` names the store when it cannot be written).

    Example:
        ```python
        from byop.run import optimize

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
    settings = RunSettings.of(
        objective,
        space,
        optimizer=optimizer,
        seed=seed,
        n_workers=n_workers,
        backend=backend,
        backend_options=backend_options,
        max_trials=max_trials,
        timeout=timeout,
        memory_limit=memory_limit,
        cpu_time_limit=cpu_time_limit,
        wall_time_limit=wall_time_limit,
        store=store,
        progress=progress,
        metrics=metrics,
        fidelities=fidelities,
        optimizer_options=optimizer_options,
        pruner=pruner,
        callbacks=callbacks,
        stop_when=stop_when,
    )
    session = RunSession(settings)
    try:
        return session.run()
    except KeyboardInterrupt as e:
        # Raised afresh here: the user sees one line of byop, not the loop's internals.
        interrupted = KeyboardInterrupt(*e.args)
        interrupted.__dict__.update(e.__dict__)  # .history, .store
        raise interrupted from None
