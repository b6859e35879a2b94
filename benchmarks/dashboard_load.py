"""The dashboard under load: 20 clients following one live run of 5,000 trials.

A writer process appends a run of ``--trials`` trials to a store at ``--rate`` trials a second
(a ``started`` and a ``report`` record each, about 1 KB, some failures), as a run's main
process does. ``byop dashboard`` follows the store (polling every 0.5 s), and ``--clients``
clients follow the run as the page does: each holds the run's event stream open (table rows
and status as they are read) and, every 2 s while the run changes, asks for its five plots.

Measured on the server process: CPU seconds (user + system) over the run, as a share of one
core, and its peak resident memory; on the clients: the delay from a trial's report being
written to each client having it (p50, p95, max), and that every client got every trial.

References from the same run, same writer and rate:

- the same server with one client, and with none (following the store only);
- a naive follower that re-reads the whole store at every poll (``read_store`` and a
  ``History`` every 0.5 s, what the server would do without `StoreFollower`), with no clients.

Ratios printed: 20 clients / 1 client (what clients cost the server), and the naive
re-reading / the incremental following (what reading only appended bytes saves).

    python benchmarks/dashboard_load.py [--trials 5000] [--rate 100] [--clients 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from tempfile import TemporaryDirectory

import psutil

PLOTS = ("history", "parallel", "importance", "slice", "pareto")
PLOT_INTERVAL = 2.0  # as the page: a plot at most every 2 s, when the run changed


# ---------------------------------------------------------------------- the writer
def write(store: Path, trials: int, rate: float) -> None:
    """Run by ``--write``: create the store, wait for a line on stdin, then write the run."""
    from byop.history import RunHeader, RunLimits, RunStore
    from byop.optimization import RandomSearch
    from byop.pipeline import Categorical, Condition, Float, Integer, Space
    from byop.serialization import typed_plain

    space = Space.from_dict(
        {
            "kind": Categorical(("linear", "tree", "knn")),
            "alpha": Float(1e-5, 10.0, log=True),
            "depth": Integer(1, 16),
            "lr": Float(0.0, 1.0),
            "batch": Categorical((16, 32, 64, 128)),
        },
        conditions=[
            Condition("alpha", "kind", ("linear",)),
            Condition("depth", "kind", ("tree",)),
        ],
    )
    rs = RandomSearch(space=space, seed=0)
    header = RunHeader(
        optimizer="random_search",
        seed=0,
        space=typed_plain(space),
        limits=RunLimits(max_trials=trials),
        objective="benchmarks.dashboard_load",
    )
    store = RunStore.create(store, header, sync=False)
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    for i in range(trials):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)  # the pace of the run
        trial = rs.ask()
        store.started(trial)
        c = trial.config
        with trial.begin():
            if c["lr"] > 0.95:
                raise FloatingPointError("the loss diverged")
            cost = (c["lr"] - 0.3) ** 2 + 0.01 * c.get("depth", 4) + 0.001 * c["batch"]
        store.reported(trial.fail() if trial.exception else trial.success(cost=cost))
    store.end("exhausted")
    store.close()


def start_writer(store: Path, trials: int, rate: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--write",
            str(store),
            "--trials",
            str(trials),
            "--rate",
            str(rate),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def go(writer: subprocess.Popen[str]) -> None:
    assert writer.stdin is not None
    writer.stdin.write("go\n")
    writer.stdin.flush()


# ---------------------------------------------------------------------- the clients
class Client:
    """Follows the run like the page: its event stream, and its plots every 2 s."""

    def __init__(self, url: str, trials: int) -> None:
        self.url = url
        self.trials = trials
        self.rows = 0
        self.delays: list[float] = []
        self.bytes = 0
        self.version = 0
        self.finished = threading.Event()
        self.plots: list[tuple[str, int]] = []  # (kind, version) of each plot received
        self.errors: list[str] = []
        self.threads = [
            threading.Thread(target=self._events, daemon=True),
            threading.Thread(target=self._plots, daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _events(self) -> None:
        host, port = re.match(r"http://([^:/]+):(\d+)/", self.url).groups()
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        connection.request("GET", "/api/runs/0/events")
        response = connection.getresponse()  # (kept: its stream closes with it)
        stream = response.fp
        try:
            event: dict[str, str] = {}
            while not self.finished.is_set():
                line = stream.readline()
                if not line:
                    self.errors.append("the event stream ended")
                    return
                self.bytes += len(line)
                text = line.decode().rstrip("\n")
                if text:
                    key, _, value = text.partition(": ")
                    event[key] = value
                    continue
                if event.get("event") == "update":
                    self._take(json.loads(event["data"]))
                event = {}
        finally:
            connection.close()

    def _take(self, message: dict) -> None:
        now = time.time()
        if message["start"] != self.rows:
            self.errors.append(f"rows out of order: {message['start']} after {self.rows}")
        for row in message["rows"]:
            self.delays.append(now - row["end"])
        self.rows = message["start"] + len(message["rows"])
        self.version = message["version"]
        if message["status"]["state"] == "finished" and self.rows == self.trials:
            self.finished.set()

    def stop(self) -> None:
        self.finished.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _plots(self) -> None:
        try:
            self._fetch_plots()
        except OSError as e:
            if not self.finished.is_set():
                self.errors.append(f"plots: {e}")

    def _fetch_plots(self) -> None:
        seen = -1
        while not self.finished.wait(PLOT_INTERVAL):
            if self.version == seen:
                continue
            seen = self.version
            for kind in PLOTS:
                with urllib.request.urlopen(f"{self.url}api/runs/0/plots/{kind}") as response:
                    body = response.read()
                self.bytes += len(body)
                head = re.match(rb'\{"version":(\d+)', body)
                if head is None:
                    self.errors.append(f"{kind}: {body[:200]!r}")
                    return
                self.plots.append((kind, int(head.group(1))))


# ---------------------------------------------------------------------- one scenario
class Watcher:
    """Peak resident memory of a process, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.stop.wait(0.2):
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.NoSuchProcess:
                return

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system


def serve(store: Path) -> tuple[subprocess.Popen[str], str]:
    byop = Path(sys.executable).with_name("byop")
    proc = subprocess.Popen(
        [str(byop), "dashboard", str(store), "--port", "0", "--poll", "0.5"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        match = re.search(r"at (http://\S+/)", line)
        if match:
            return proc, match.group(1)
    raise SystemExit("byop dashboard printed no address")


def scenario(directory: Path, name: str, clients: int, trials: int, rate: float) -> dict:
    store = directory / f"{name.replace(' ', '-')}.jsonl"
    writer = start_writer(store, trials, rate)
    server, url = serve(store)
    followers: list[Client] = []
    try:
        watcher = Watcher(server.pid)
        idle = psutil.Process(server.pid).memory_info().rss
        cpu0, t0 = watcher.cpu(), time.perf_counter()
        followers = [Client(url, trials) for _ in range(clients)]
        go(writer)
        writer.wait(timeout=trials / rate * 3 + 60)
        written = time.perf_counter()
        for client in followers:
            if not client.finished.wait(timeout=120):
                raise SystemExit(f"{name}: a client has {client.rows} of {trials} trials")
        if not followers:  # no clients: wait until the server has read the whole run
            deadline = time.time() + 120
            while json.load(urllib.request.urlopen(url + "api/runs/0"))["trials"] < trials:
                if time.time() > deadline:
                    raise SystemExit(f"{name}: the server did not read the whole run")
                time.sleep(0.2)
        cpu, wall = watcher.cpu() - cpu0, time.perf_counter() - t0
        watcher.stop.set()
        for client in followers:
            client.stop()
    finally:
        server.terminate()
        server.wait(timeout=30)
        writer.kill()
        writer.wait(timeout=30)
    delays = sorted(d for c in followers for d in c.delays)
    errors = [e for c in followers for e in c.errors]
    if errors:
        raise SystemExit(f"{name}: {errors[:3]}")
    made = {p for c in followers for p in c.plots}
    served = sum(len(c.plots) for c in followers)
    return {
        "name": name,
        "cpu": cpu,
        "wall": wall,
        "after": time.perf_counter() - written,
        "peak": watcher.peak,
        "idle": idle,
        "p50": statistics.median(delays) if delays else None,
        "p95": delays[int(0.95 * (len(delays) - 1))] if delays else None,
        "max": delays[-1] if delays else None,
        "plots": (len(made), served),
        "kb": sum(c.bytes for c in followers) / max(1, len(followers)) / 1024,
    }


NAIVE = """
import sys, time
from byop.history import History, read_store, summary
path, trials = sys.argv[1], int(sys.argv[2])
while True:
    try:
        run = read_store(path, recover=True)
    except Exception:
        time.sleep(0.5)
        continue
    history = History(run.reports, metrics=run.header.metrics)
    summary(history)
    if len(run.reports) >= trials and run.finished:
        break
    time.sleep(0.5)
"""


def naive(directory: Path, trials: int, rate: float) -> dict:
    store = directory / "naive.jsonl"
    writer = start_writer(store, trials, rate)
    proc = subprocess.Popen([sys.executable, "-c", NAIVE, str(store), str(trials)])
    try:
        watcher = Watcher(proc.pid)
        cpu0, t0 = watcher.cpu(), time.perf_counter()
        go(writer)
        writer.wait(timeout=trials / rate * 3 + 60)
        cpu = watcher.cpu() - cpu0  # just before it ends
        proc.wait(timeout=120)
        watcher.stop.set()
    finally:
        proc.kill()
        proc.wait(timeout=30)
        writer.kill()
        writer.wait(timeout=30)
    return {
        "name": "naive re-read",
        "cpu": cpu,
        "wall": time.perf_counter() - t0,
        "peak": watcher.peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0, help="trials a second")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        write(args.write, args.trials, args.rate)
        return
    print(
        f"dashboard load: {args.trials} trials written at {args.rate:g}/s "
        f"({args.trials / args.rate:.0f} s), server polling every 0.5 s"
    )
    with TemporaryDirectory() as work:
        directory = Path(work)
        runs = [
            scenario(directory, f"{args.clients} clients", args.clients, args.trials, args.rate),
            scenario(directory, "1 client", 1, args.trials, args.rate),
            scenario(directory, "0 clients", 0, args.trials, args.rate),
        ]
        reference = naive(directory, args.trials, args.rate)
    mb = 1024 * 1024
    print(
        f"\n{'server':<14} {'cpu s':>7} {'of a core':>9} {'peak MB':>8} {'idle MB':>8} "
        f"{'delay p50':>9} {'p95':>6} {'max':>6} {'plots made/served':>18} {'KB/client':>9}"
    )
    for r in runs:
        delay = (
            f"{r['p50']:>8.2f}s {r['p95']:>5.2f}s {r['max']:>5.2f}s"
            if r["p50"] is not None
            else f"{'-':>9} {'-':>6} {'-':>6}"
        )
        made, served = r["plots"]
        print(
            f"{r['name']:<14} {r['cpu']:>7.1f} {r['cpu'] / r['wall']:>8.0%} "
            f"{r['peak'] / mb:>8.0f} {r['idle'] / mb:>8.0f} {delay} "
            f"{f'{made}/{served}':>18} {r['kb']:>9.0f}"
        )
    print(
        f"{reference['name']:<14} {reference['cpu']:>7.1f} "
        f"{reference['cpu'] / reference['wall']:>8.0%} {reference['peak'] / mb:>8.0f}"
    )
    many, one, none = runs
    print(
        f"\nserver CPU, {args.clients} clients / 1 client: {many['cpu'] / one['cpu']:.2f}x"
        f"\nreading the store, naive re-read / following (0 clients): "
        f"{reference['cpu'] / none['cpu']:.1f}x the CPU"
    )


if __name__ == "__main__":
    main()
