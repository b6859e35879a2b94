"""A run's header, and the checks and restoring that resuming a stored run needs."""

from __future__ import annotations

import contextlib
import json
from collections import deque
from pathlib import Path
from typing import Any

from byop.history import RunHeader, StoredRun, StoreMismatchError, read_store
from byop.optimization import Trial
from byop.pipeline import Space
from byop.run._settings import RunSettings
from byop.serialization import typed_plain


def space_record(space: Any) -> Any:
    """The space as the header stores it: byop's `Space` as plain data that keeps its types.

    A dictionary is read as byop's space first, as `create_optimizer` does, so that a run made
    with a dictionary resumes with the same dictionary or the `Space` it describes. An object
    byop cannot write out (a library's own space) is recorded by its type.
    """
    if isinstance(space, dict):
        # A space for a custom sampler function may not read as byop's: recorded as given.
        with contextlib.suppress(TypeError, ValueError):
            space = Space.from_dict(space)
    return typed_plain(space)


def _serialized(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def header(settings: RunSettings, optimizer: Any) -> RunHeader:
    """The header of a new run with these settings."""
    seed = getattr(optimizer, "seed", settings.seed)
    limits = settings.limits
    objective = settings.objective
    module = getattr(objective, "__module__", None)
    name = getattr(objective, "__qualname__", None) or type(objective).__name__
    return RunHeader(
        optimizer=settings.optimizer_name,
        seed=seed if isinstance(seed, int) else settings.seed,
        space=space_record(settings.space),
        metrics=settings.metrics,
        limits=settings.run_limits,
        fidelities=settings.fidelities,
        objective=f"{module}.{name}" if module else name,
        extra={
            "n_workers": settings.n_workers,
            "backend": settings.backend if isinstance(settings.backend, str) else "scheduler",
            "memory_limit": None if limits is None else limits.memory,
            "cpu_time_limit": None if limits is None else limits.cpu_time,
            "wall_time_limit": None if limits is None else limits.wall_time,
        },
    )


def check(settings: RunSettings, stored: StoredRun) -> None:
    """Refuse to resume a run with settings the store differs in.

    Raises:
        StoreMismatchError: The optimizer, seed, space, metrics or fidelities differ.
    """
    stored_header = stored.header
    path = stored.path
    differences: list[str] = []
    given_name = settings.optimizer_name
    if stored_header.optimizer != given_name and not _same_optimizer(
        stored_header.optimizer, settings.optimizer
    ):
        differences.append(f"optimizer: stored {stored_header.optimizer!r}, given {given_name!r}")
    seed = settings.seed
    if seed is not None and stored_header.seed is not None and seed != stored_header.seed:
        differences.append(f"seed: stored {stored_header.seed}, given {seed}")
    given_space = json.loads(_serialized(space_record(settings.space)))
    if _serialized(stored_header.space) != _serialized(given_space):
        differences.append("space: the given space differs from the stored one")
    if tuple(stored_header.metrics) != tuple(settings.metrics):
        stored_names = [(m.name, m.minimize) for m in stored_header.metrics]
        given = [(m.name, m.minimize) for m in settings.metrics]
        differences.append(f"metrics: stored {stored_names}, given {given}")
    if tuple(stored_header.fidelities) != tuple(settings.fidelities):
        differences.append(
            f"fidelities: stored {list(stored_header.fidelities)}, given "
            f"{list(settings.fidelities)}"
        )
    if differences:
        raise StoreMismatchError(
            path,
            f"{path} holds a run with other settings, so it cannot be resumed with these: "
            + "; ".join(differences)
            + ". Resume it with the settings it was created with, or pass a new store path "
            "to start a new run.",
        )


def _same_optimizer(stored: str, given: Any) -> bool:
    """Whether the stored optimizer and the given one are the same, one by name, one by object.

    A run made with a registered name resumes with an object of the class registered under it,
    and a run made with an object (stored as its class's name) resumes with that name.
    """
    if isinstance(given, str):
        cls = _registered_class(given)
        return cls is not None and cls.__name__ == stored
    cls = _registered_class(stored)
    return cls is not None and isinstance(given, cls)


def _registered_class(name: str) -> type | None:
    """The class whose objects the optimizer registered as ``name`` makes, if it is one."""
    from byop.plugins import UnknownFeatureError, get

    try:
        factory = get("optimizers", name).obj
    except UnknownFeatureError:
        return None
    owner = getattr(factory, "__self__", factory)  # a classmethod factory: its class
    return owner if isinstance(owner, type) else None


def is_empty_file(path: Path | None) -> bool:
    """Whether ``path`` is an existing, empty file."""
    return path is not None and path.is_file() and path.stat().st_size == 0


def stored_run(settings: RunSettings) -> StoredRun | None:
    """The run already in the settings' store, checked against them; nothing is written.

    An empty file holds no run: ``None``, and a new run is created in it (the run's summary
    says so). A store is created whole or not at all, so a run never leaves an empty file
    behind: one is made by hand (``touch``, ``mktemp``), or a store was emptied.
    """
    path = settings.store
    if path is None or not path.exists():
        return None
    if is_empty_file(path):
        return None
    stored = read_store(path)
    check(settings, stored)
    return stored


def reruns(stored: StoredRun, max_trials: int | None) -> deque[Trial[Any]]:
    """The trials a resumed run runs again: those in flight when it stopped, oldest first."""
    in_flight = stored.in_flight
    if max_trials is not None:
        in_flight = in_flight[: max(0, max_trials - len(stored.reports))]
    return deque(
        Trial(
            trial.name,
            dict(trial.config),
            trial.info,
            trial.seed,
            trial.budget,
            dict(trial.fidelities),
        )
        for trial in in_flight
    )
