"""What one call of `optimize` was asked to do, checked once and kept in one frozen value."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from byop.history import ProgressMode, RunLimits
from byop.optimization import (
    Fidelity,
    Metric,
    Pruner,
    Trial,
    as_fidelities,
    as_metrics,
    as_seed,
)
from byop.run._callbacks import check_callbacks
from byop.run._errors import NoRunLimitsError
from byop.run._keywords import check_optimizer_options, close_to_own
from byop.run._stopping import check_stop_when
from byop.scheduling import Limits, Scheduler, StopCriterion


def _positive_int(name: str, value: Any, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return value


@frozen(kw_only=True)
class RunSettings:
    """The settings of one `optimize` call, checked when made.

    Attributes:
        objective: ``objective(trial) -> report``.
        space: The search space, as given.
        optimizer: A registered optimizer's name, or an optimizer object.
        seed: The optimizer's seed (``None``: the stored one on resume, else drawn).
        n_workers: How many trials run at once.
        backend: A registered back end's name, or a `Scheduler`.
        backend_options: Keyword options for the back end's factory.
        run_limits: How many trials may finish, and for how long the run may go on.
        limits: Each trial's memory, CPU-time and wall-time limits.
        store: The run store's path, if any.
        progress: How progress is shown.
        metrics: The metrics the objective reports; the first ranks the trials.
        metrics_given: Whether ``metrics`` were declared (and so go to the optimizer).
        fidelities: The declared fidelities (they go to the optimizer when declared).
        optimizer_options: Keyword options for the optimizer's factory.
        pruner: A registered pruner's name, or a `Pruner`, that stops trials early.
        callbacks: Functions of each report, or objects with ``on_report``/``on_end``.
        stop_when: The stop criterion (any of those given), checked at each report.
    """

    objective: Callable[[Trial[Any]], Any]
    space: Any
    optimizer: str | Any = "random_search"
    seed: int | None = None
    n_workers: int = 1
    backend: str | Scheduler = "processes"
    backend_options: Mapping[str, Any] = field(factory=dict)
    run_limits: RunLimits
    limits: Limits | None = None
    store: Path | None = None
    progress: ProgressMode | bool = "auto"
    metrics: tuple[Metric, ...] = (Metric(),)
    metrics_given: bool = False
    fidelities: tuple[Fidelity, ...] = ()
    optimizer_options: Mapping[str, Any] = field(factory=dict)
    pruner: str | Pruner | None = None
    callbacks: tuple[Any, ...] = ()
    stop_when: StopCriterion | None = None

    @classmethod
    def of(
        cls,
        objective: Callable[[Trial[Any]], Any],
        space: Any,
        *,
        optimizer: str | Any,
        seed: int | None,
        n_workers: int,
        backend: str | Scheduler,
        backend_options: Mapping[str, Any] | None,
        max_trials: int | None,
        timeout: float | None,
        memory_limit: int | float | str | None,
        cpu_time_limit: float | None,
        wall_time_limit: float | None,
        store: str | Path | None,
        progress: ProgressMode | bool,
        metrics: Metric | str | Iterable[Metric | str] | Mapping[str, str] | None,
        fidelities: Fidelity | Iterable[Fidelity] | Mapping[str, tuple[float, float]] | None = None,
        optimizer_options: Mapping[str, Any],
        pruner: str | Pruner | None = None,
        callbacks: Any = None,
        stop_when: Any = None,
    ) -> RunSettings:
        """Check every argument of `optimize`, and keep them.

        Raises:
            NoRunLimitsError: Neither ``max_trials``, ``timeout`` nor ``stop_when`` was given.
            TypeError: An argument has the wrong type, or is a keyword argument that neither
                `optimize` nor the optimizer's factory takes (the message suggests the close
                parameter, e.g. ``n_workers`` for ``n_worker``).
            ValueError: An argument has a wrong value.
        """
        if not callable(objective):
            raise TypeError(
                f"optimize() runs an objective function, objective(trial) -> report; got "
                f"{type(objective).__name__} {objective!r}."
            )
        if isinstance(timeout, float) and timeout == math.inf:
            timeout = None  # no time limit
        if max_trials is None and timeout is None and not stop_when:
            raise NoRunLimitsError(
                "optimize() needs a run limit, or it would never end: pass max_trials= (how "
                "many trials may finish), timeout= (seconds), stop_when= (a stop criterion), or "
                "several."
            )
        seed = as_seed(seed)
        max_trials = _positive_int("max_trials", max_trials, allow_none=True)
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
        ):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
        n = _positive_int("n_workers", n_workers, allow_none=False)
        assert n is not None
        if not isinstance(backend, str | Scheduler):
            raise TypeError(
                "backend must be a registered back end's name ('processes', 'threads', "
                f"'sequential', 'dask', 'ray'...) or a Scheduler, got {type(backend).__name__}."
            )
        if backend_options and isinstance(backend, Scheduler):
            raise TypeError(
                "backend_options= configure a back end created by name; the Scheduler given "
                "was made already: configure its back end when you make it."
            )
        if optimizer_options and not isinstance(optimizer, str):
            names = ", ".join(sorted(optimizer_options))
            raise TypeError(
                f"optimize() got keyword arguments it does not know ({names}). They would go to "
                "an optimizer created by name, but the optimizer was given as an object: pass "
                f"them when creating it instead.{close_to_own(optimizer_options)}"
            )
        if isinstance(optimizer, str):
            check_optimizer_options(optimizer, optimizer_options)
        if isinstance(progress, str) and progress not in ("auto", "bar", "lines", "off"):
            raise ValueError(
                f"progress must be one of 'auto', 'bar', 'lines', 'off' (or True/False), got "
                f"{progress!r}."
            )
        _check_pruner(pruner)
        as_metric_tuple = as_metrics(metrics)
        return cls(
            objective=objective,
            space=space,
            optimizer=optimizer,
            seed=seed,
            n_workers=n,
            backend=backend,
            backend_options=dict(backend_options or {}),
            run_limits=RunLimits(max_trials, None if timeout is None else float(timeout)),
            limits=Limits.of(memory_limit, cpu_time_limit, wall_time_limit),
            store=None if store is None else Path(store),
            progress=progress,
            metrics=as_metric_tuple,
            metrics_given=metrics is not None,
            fidelities=as_fidelities(fidelities),
            optimizer_options=dict(optimizer_options),
            pruner=pruner,
            callbacks=check_callbacks(callbacks),
            stop_when=check_stop_when(stop_when, as_metric_tuple),
        )

    @property
    def optimizer_name(self) -> str:
        """The optimizer's registered name, or its class's name when given as an object."""
        spec = self.optimizer
        return spec if isinstance(spec, str) else type(spec).__name__


def _check_pruner(pruner: Any) -> None:
    """Refuse a pruner that is neither a registered pruner's name nor a `Pruner`."""
    if pruner is None or isinstance(pruner, Pruner):
        return
    from byop.optimization import available_pruners

    names = available_pruners()
    if isinstance(pruner, str):
        if pruner not in names:
            from byop.plugins import get

            get("pruners", pruner)  # raises, listing the registered pruners
        return
    raise TypeError(
        f"pruner= takes a registered pruner's name ({', '.join(repr(n) for n in names)}) or an "
        "object with should_stop(trial, step, values) and tell(report); got "
        f"{type(pruner).__name__}."
    )
