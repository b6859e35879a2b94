"""The commands of ``byop``; each imports only what it needs, when it runs."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from byop.cli._main import CommandError

if TYPE_CHECKING:
    from byop.history import StoredRun
    from byop.optimization import Metric


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Turn the errors a command expects into a `CommandError` with their message."""
    from byop.history import StoreError
    from byop.plugins import MissingDependencyError

    try:
        yield
    except (StoreError, MissingDependencyError, FileNotFoundError) as e:
        raise CommandError(str(e)) from e
    except BrokenPipeError:
        raise  # the reader went away (`| head`): not an error, see main()
    except OSError as e:
        raise CommandError(f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")) from e


@contextlib.contextmanager
def _bad_values() -> Iterator[None]:
    """Turn a `ValueError` of what the command was asked (a bad file name) into its message."""
    try:
        yield
    except ValueError as e:
        raise CommandError(str(e)) from e


def _warn(message: str) -> None:
    print(f"byop: warning: {message}", file=sys.stderr)


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        out.write("  ".join(cells).rstrip() + "\n")


# ---------------------------------------------------------------------- byop --version
def version() -> int:
    """Print byop-core's version."""
    from importlib import metadata

    try:
        found = metadata.version("byop-core")
    except metadata.PackageNotFoundError:
        found = "unknown"
    print(f"byop {found}")
    return 0


# ---------------------------------------------------------------------- byop plugins
def plugins(*, show_traceback: bool = False, check: bool = False) -> int:
    """List every plugin, with its distribution, version, hooks and error."""
    from byop.plugins import STRICT_ENV, PluginSystem

    # Listing is a diagnosis: it shows broken plugins instead of stopping at them.
    environ = {k: v for k, v in os.environ.items() if k != STRICT_ENV}
    system = PluginSystem(environ=environ)
    infos = system.plugins()
    rows = [["PLUGIN", "DISTRIBUTION", "VERSION", "REGISTERS"]]
    notes: dict[int, list[str]] = {}
    for info in infos:
        registers = _registrations(info.registered) or "-"
        if info.blocked:
            registers = "(blocked by BYOP_BLOCK_PLUGINS)"
        rows.append([info.name, info.distribution or "-", info.version or "-", registers])
        lines = [f"  warning: {w}" for w in info.warnings]
        if info.error is not None:
            lines.append(f"  error: {info.error}")
            if show_traceback and info.traceback:
                lines += ["    " + line for line in info.traceback.rstrip().splitlines()]
        notes[len(rows) - 1] = lines
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    out = sys.stdout
    for index, row in enumerate(rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
        for line in notes.get(index, []):
            out.write(line + "\n")
    for warning in system.warnings():
        out.write(f"warning: {warning}\n")
    failed = [i for i in infos if i.error is not None]
    if failed:
        names = ", ".join(i.name for i in failed)
        out.write(
            f"\n{len(failed)} plugin(s) failed to load: {names}. Fix or uninstall them, or "
            "block them with BYOP_BLOCK_PLUGINS=name.\n"
        )
    return 1 if check and failed else 0


def _registrations(registered: tuple[tuple[str, str], ...]) -> str:
    """``optimizers: smac; space_parsers: optuna``."""
    by_kind: dict[str, list[str]] = {}
    for kind, name in registered:
        by_kind.setdefault(kind, []).append(name)
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in by_kind.items())


# ---------------------------------------------------------------------- byop runs ...
def _read(args: argparse.Namespace) -> StoredRun:
    from byop.history import read_store

    with _errors():
        run = read_store(args.store, recover=getattr(args, "recover", False))
    for problem in run.problems:
        _warn(f"{args.store}: {problem}")
    return run


def _metric(args: argparse.Namespace, run: StoredRun) -> Metric | None:
    from byop.optimization import Metric

    if args.metric is None:
        if args.maximize:
            first = run.header.metrics[0]
            return Metric(first.name, minimize=False)
        return None
    return Metric(args.metric, minimize=not args.maximize)


def runs_show(args: argparse.Namespace) -> int:
    """Print a stored run's metadata and its summary table."""
    import datetime

    from byop.history import format_duration, summary

    run = _read(args)
    header = run.header
    seed = f" (seed {header.seed})" if header.seed is not None else ""
    budget = []
    if header.limits.max_trials is not None:
        budget.append(f"{header.limits.max_trials} trials")
    if header.limits.timeout is not None:
        budget.append(format_duration(header.limits.timeout))
    created = datetime.datetime.fromtimestamp(header.created).isoformat(sep=" ", timespec="seconds")
    if run.finished:
        last = f"ended: {run.sessions[-1].exit_status}"
    else:
        last = "did not end normally (killed, crashed, or still running)"
    metrics = ", ".join(f"{m.name} ({'min' if m.minimize else 'max'})" for m in header.metrics)
    info: list[list[str]] = [
        ["optimizer", f"{header.optimizer}{seed}"],
        ["objective", header.objective or "-"],
        ["metrics", metrics],
        ["limits", " or ".join(budget) or "none"],
        ["created", f"{created} by byop {header.byop_version or '?'}"],
        ["sessions", f"{len(run.sessions)}, the last {last}"],
        ["time used", format_duration(run.time_used)],
    ]
    if run.in_flight:
        names = ", ".join(t.name for t in run.in_flight[:5])
        more = ", ..." if len(run.in_flight) > 5 else ""
        info.append(
            [
                "unfinished",
                f"{len(run.in_flight)} started, never reported: {names}{more} "
                "(resuming runs them again)",
            ]
        )
    out = sys.stdout
    out.write(f"run {args.store}\n")
    _table([["  " + k, v] for k, v in info], out)
    history = run.history
    with _errors():
        text = summary(history, metric=_metric(args, run))
    out.write(text + "\n")
    return 0


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        from byop.serialization import to_json

        return to_json(value)
    return value


def runs_export(args: argparse.Namespace) -> int:
    """Write a stored run's trials as CSV."""
    run = _read(args)
    history = run.history
    rows = history.records()
    columns = history.columns()
    with _errors(), _output(args.csv) as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row[c]) for c in columns])
    if args.csv != "-":
        print(f"wrote {len(rows)} trials to {args.csv}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _output(target: str) -> Iterator[TextIO]:
    if target == "-":
        yield sys.stdout
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        yield out


def runs_plot(args: argparse.Namespace) -> int:
    """Plot a stored run's best-so-far trace (or, with --pareto, its Pareto front) to an image."""
    from byop.history import plot_pareto, plot_trace

    run = _read(args)
    output = Path(args.output)
    if args.metrics and not args.pareto:
        raise CommandError("--metrics X,Y goes with --pareto (a trace plot takes --metric).")
    if args.pareto:
        names = [n.strip() for n in args.metrics.split(",")] if args.metrics else None
        with _errors(), _bad_values():
            output.parent.mkdir(parents=True, exist_ok=True)
            plot_pareto(
                run.history,
                output,
                metrics=names,
                title=f"{run.header.optimizer}: {Path(args.store).name}",
            )
        print(f"wrote {output}", file=sys.stderr)
        return 0
    with _errors(), _bad_values():
        output.parent.mkdir(parents=True, exist_ok=True)
        plot_trace(
            run.history,
            output,
            metric=_metric(args, run),
            title=f"{run.header.optimizer}: {Path(args.store).name}",
        )
    print(f"wrote {output}", file=sys.stderr)
    return 0


def runs_repair(args: argparse.Namespace) -> int:
    """Rewrite a damaged store with its intact records."""
    from byop.history import read_store, repair_store

    with _errors():
        before = read_store(args.store, recover=True)
        if not before.problems:
            print(f"{args.store} has no damage; left as it is.")
            return 0
        for problem in before.problems:
            print(f"  {problem}")
        repaired = repair_store(args.store)
    print(
        f"repaired {args.store}: {len(repaired.reports)} reports and {len(repaired.started)} "
        f"started trials kept; the original is {args.store}.bak"
    )
    return 0


# ---------------------------------------------------------------------- byop dashboard
def dashboard(args: argparse.Namespace) -> int:
    """Serve the web dashboard of the given stores (byop-dashboard, loaded only now)."""
    from byop.plugins import import_optional

    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port is a port number from 0 to 65535, got {args.port}.")
    if not args.poll > 0:
        raise CommandError(f"--poll is a positive number of seconds, got {args.poll}.")
    with _errors():
        module = import_optional(
            "byop.dashboard", install="byop[dashboard]", feature="byop dashboard"
        )
    try:
        status: int = module.serve(
            args.stores,
            host=args.host,
            port=args.port,
            poll_interval=args.poll,
            open_browser=args.open,
        )
    except ValueError as e:  # no stores
        raise CommandError(str(e)) from e
    except OSError as e:  # the port is in use, the address is wrong
        raise CommandError(e.strerror or str(e)) from e
    return status
