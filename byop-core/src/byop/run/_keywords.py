"""`optimize`'s extra keyword arguments: what goes to the optimizer, and what is a typo.

Keyword arguments `optimize` does not know go to the factory of an optimizer created by name.
A misspelt parameter of `optimize` (``n_worker=4``) would then fail inside the factory, with a
message naming the factory (``RandomSearch.__init__() got an unexpected keyword argument``).
Instead, the error names `optimize`, its own parameters, the optimizer's, and the close one.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Iterable, Mapping
from typing import Any

OWN_PARAMETERS = (
    "optimizer",
    "seed",
    "n_workers",
    "backend",
    "backend_options",
    "max_trials",
    "timeout",
    "memory_limit",
    "cpu_time_limit",
    "wall_time_limit",
    "store",
    "progress",
    "metrics",
    "pruner",
    "callbacks",
    "stop_when",
    "fidelities",
)
"""`optimize`'s own keyword parameters (anything else goes to the optimizer's factory)."""

PASSED_BY_OPTIMIZE = ("space", "seed", "metrics", "fidelities")
"""What `optimize` itself passes to an optimizer's factory."""

_UNEXPECTED = re.compile(r"unexpected keyword argument '(?P<name>\w+)'")


def close_to_own(names: Iterable[str], others: Iterable[str] = ()) -> str:
    """A hint for keyword arguments that look like misspelt parameters (``n_worker=``)."""
    candidates = [*OWN_PARAMETERS, *others]
    hints = []
    for name in names:
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
        if close:
            hints.append(f"{close[0]}= instead of {name}=")
    return f" Did you mean {', '.join(hints)}?" if hints else ""


def factory_parameters(optimizer: str) -> tuple[list[str], bool] | None:
    """The keywords the factory of a registered optimizer takes, and whether it takes others.

    The keywords `optimize` passes itself (`PASSED_BY_OPTIMIZE`) are left out; "others" means
    a ``**kwargs``. ``None`` when the optimizer is not registered or its signature cannot be
    read.
    """
    from byop.plugins import UnknownFeatureError, get

    try:
        factory = get("optimizers", optimizer).obj
        signature = inspect.signature(factory)
    except (UnknownFeatureError, TypeError, ValueError):
        return None
    keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = signature.parameters.values()
    names = [p.name for p in parameters if p.kind in keyword and p.name not in PASSED_BY_OPTIMIZE]
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    return names, open_ended


def unknown_keywords(optimizer: str, names: Iterable[str]) -> TypeError:
    """The error for keyword arguments neither `optimize` nor the optimizer's factory takes."""
    names = list(names)
    listed = ", ".join(f"{n}=" for n in names)
    found = factory_parameters(optimizer)
    accepted = [] if found is None else found[0]
    if found is None:
        takes = "whatever its factory takes"
    elif accepted:
        takes = ", ".join(accepted) + (" (and keywords it passes on)" if found[1] else "")
    else:
        takes = "no other keyword arguments"
    plural = "s" if len(names) > 1 else ""
    return TypeError(
        f"optimize() got {listed}, which {'are' if plural else 'is'} neither one of its own "
        f"parameters nor one the optimizer {optimizer!r} takes.{close_to_own(names, accepted)} "
        f"optimize() takes: {', '.join(OWN_PARAMETERS)}; other keyword arguments go to the "
        f"optimizer, which takes: {takes}."
    )


def check_optimizer_options(optimizer: str, options: Mapping[str, Any]) -> None:
    """Refuse options that the factory of ``optimizer`` (a registered name) cannot take.

    Raises:
        TypeError: Some option is no parameter of the factory, which takes no ``**kwargs``;
            the message names `optimize`'s parameters and the factory's, and a close one.
    """
    if not options:
        return
    found = factory_parameters(optimizer)
    if found is None or found[1]:
        return  # a factory that takes **kwargs: what it refuses is seen when it is called
    accepted, _ = found
    unknown = [name for name in options if name not in accepted]
    if unknown:
        raise unknown_keywords(optimizer, unknown)


def explain_factory_error(
    error: TypeError, optimizer: str, options: Mapping[str, Any]
) -> TypeError | None:
    """`unknown_keywords` for a factory's "unexpected keyword argument" about an option.

    ``None`` for any other error, which is then the factory's own to tell.
    """
    match = _UNEXPECTED.search(str(error))
    if match is None or match.group("name") not in options:
        return None
    return unknown_keywords(optimizer, [match.group("name")])
