"""The ``byop`` command: argument parsing and dispatch; each command imports what it needs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

PROG = "byop"


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="byop: build your own AutoML. Inspect plugins and stored runs, and watch "
        "runs in a web dashboard.",
    )
    parser.add_argument("--version", action="store_true", help="print byop's version and exit")
    parser.set_defaults(print_help=parser.print_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    plugins = commands.add_parser(
        "plugins",
        help="list the installed plugins, what they register and any error",
        description="Every plugin: its distribution, version, hooks, and why it failed if it "
        "did. Blocked plugins (BYOP_BLOCK_PLUGINS) are shown as blocked.",
    )
    plugins.add_argument(
        "--traceback", action="store_true", help="show the full traceback of each failure"
    )
    plugins.add_argument(
        "--check", action="store_true", help="exit with status 1 if any plugin failed to load"
    )

    runs = commands.add_parser(
        "runs", help="show, export, plot or repair a stored run", description="Stored runs."
    )
    runs.set_defaults(print_help=runs.print_help, runs_command=None)
    run_commands = runs.add_subparsers(dest="runs_command", metavar="COMMAND")

    def store_argument(p: argparse.ArgumentParser, *, recover: bool = True) -> None:
        p.add_argument("store", metavar="STORE", help="the run's store file")
        if recover:
            p.add_argument(
                "--recover",
                action="store_true",
                help="skip damaged lines in the middle of the store instead of stopping",
            )

    show = run_commands.add_parser(
        "show",
        help="summary table: counts by status, the best trial and its config",
        description="Summarise a stored run: its metadata, counts by status, the best trial.",
    )
    store_argument(show)
    show.add_argument("--metric", help="the metric to rank by (default: the run's first)")
    show.add_argument(
        "--maximize", action="store_true", help="higher --metric is better (default: lower)"
    )

    export = run_commands.add_parser(
        "export",
        help="write the run's trials to a CSV file, one row a trial",
        description="One row a trial: name, status, config:*, results:*, times, exception.",
    )
    store_argument(export)
    export.add_argument(
        "--csv", required=True, metavar="FILE", help="the CSV file to write ('-' for stdout)"
    )

    plot = run_commands.add_parser(
        "plot",
        help="plot the best-so-far trace, or the Pareto front (needs byop[plot])",
        description="Plot the best value so far against trials finished and against time, or "
        "(--pareto) two metrics of every trial with their Pareto front.",
    )
    store_argument(plot)
    plot.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the image to write, e.g. trace.png"
    )
    plot.add_argument("--metric", help="the metric to plot (default: the run's first)")
    plot.add_argument(
        "--pareto",
        action="store_true",
        help="plot the Pareto front of two metrics instead (the run's first two, or --metrics)",
    )
    plot.add_argument(
        "--metrics",
        metavar="X,Y",
        help="with --pareto: the two metrics to plot, comma-separated",
    )
    plot.add_argument(
        "--maximize", action="store_true", help="higher --metric is better (default: lower)"
    )

    repair = run_commands.add_parser(
        "repair",
        help="rewrite a damaged store with its intact records (keeps a .bak copy)",
        description="Rewrite a store without its damaged lines, so that the run can resume. "
        "The original is kept beside it as STORE.bak.",
    )
    store_argument(repair, recover=False)

    dashboard = commands.add_parser(
        "dashboard",
        help="a live web dashboard of stored and running runs (needs byop[dashboard])",
        description="Serve a web dashboard of the given run stores: each run's status and "
        "budget, summary, plots and trials, updated as the stores are written. It only reads "
        "the stores, and listens on 127.0.0.1 unless --host says otherwise.",
    )
    dashboard.add_argument(
        "stores",
        nargs="+",
        metavar="STORE",
        help="run store files, or directories whose *.jsonl files are run stores",
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 "
        "exposes the runs to anyone who can reach this machine)",
    )
    dashboard.add_argument(
        "--port", type=int, default=8765, help="the port (default 8765; 0 for any free one)"
    )
    dashboard.add_argument(
        "--poll",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="seconds between looks at the stores for new records (default 0.5)",
    )
    dashboard.add_argument("--open", action="store_true", help="open it in a web browser")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``byop`` command with ``argv`` (``sys.argv[1:]`` by default).

    Returns:
        The exit status: 0 on success, 1 when the command failed, 2 for bad usage.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.version:
            from byop.cli._commands import version

            return version()
        if args.command == "plugins":
            from byop.cli._commands import plugins

            return plugins(show_traceback=args.traceback, check=args.check)
        if args.command == "dashboard":
            from byop.cli._commands import dashboard

            return dashboard(args)
        if args.command == "runs" and args.runs_command is not None:
            from byop.cli import _commands

            command = getattr(_commands, f"runs_{args.runs_command}")
            status: int = command(args)
            sys.stdout.flush()  # here, where a reader that went away can still be handled
            return status
        args.print_help(sys.stderr)  # a command group without its command
        return 2
    except CommandError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `byop runs export x --csv - | head`: it read what it needed
        # What is left in stdout's buffer can never be written: drop it, so that the
        # interpreter's last flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
