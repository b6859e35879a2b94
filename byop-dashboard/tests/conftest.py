"""Run stores to show: finished, live, damaged; and a client for the dashboard's API."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from byop.dashboard import Dashboard
from byop.history import RunHeader, RunLimits, RunStore
from byop.optimization import Metric, RandomSearch
from byop.pipeline import Categorical, Condition, Float, Integer, Space
from byop.serialization import typed_plain

EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="window.__pwned=1">'

SPACE = Space.from_dict(
    {
        "kind": Categorical(("svm", "tree", EVIL, EVIL_IMG)),
        "C": Float(1e-3, 1e3, log=True),
        "depth": Integer(1, 12),
        "lr": Float(0.0, 1.0),
    },
    conditions=[Condition("C", "kind", ("svm",)), Condition("depth", "kind", ("tree",))],
)


class Writer:
    """The main process of a run, writing its store: trials asked, run and reported."""

    def __init__(self, path: Path, *, max_trials: int = 1000, seed: int = 0) -> None:
        self.rs = RandomSearch(space=SPACE, seed=seed)
        header = RunHeader(
            optimizer="random_search",
            seed=seed,
            space=typed_plain(SPACE),
            metrics=(Metric("cost"),),
            limits=RunLimits(max_trials=max_trials),
            objective="tests.objective",
        )
        self.store = RunStore.create(path, header, sync=False)
        self.count = 0

    def report(self, n: int = 1) -> None:
        for _ in range(n):
            trial = self.rs.ask()
            self.store.started(trial)
            c = trial.config
            with trial.begin():
                if c["lr"] > 0.85:
                    raise ValueError(f"lr {c['lr']:.2f} is too big for {EVIL}")
                cost = 5 * (c["lr"] - 0.3) ** 2 + (0.1 * c.get("depth", 0))
            if trial.exception is not None:
                report = trial.fail()
            elif self.count % 17 == 16:
                report = trial.crashed(MemoryError("out of memory"))
            else:
                report = trial.success(cost=cost)
            self.store.reported(report)
            self.count += 1

    def end(self) -> None:
        self.store.end("exhausted")
        self.store.close()


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    path = tmp_path / "finished.jsonl"
    writer = Writer(path, max_trials=60)
    writer.report(60)
    writer.end()
    return path


@pytest.fixture
def serve():
    """Start a dashboard on a free port; closed after the test."""
    started: list[Dashboard] = []

    def start(*stores: Path, **kwargs: Any) -> Dashboard:
        kwargs.setdefault("poll_interval", 0.05)
        dashboard = Dashboard(list(stores), port=0, **kwargs).start()
        started.append(dashboard)
        return dashboard

    yield start
    for dashboard in started:
        dashboard.close()


def fetch(url: str, *, headers: dict[str, str] | None = None, method: str = "GET"):
    """``(status, headers, body)`` of a request (errors included)."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_json(url: str) -> Any:
    status, _, body = fetch(url)
    assert status == 200, (url, status, body[:300])
    return json.loads(body)


class Events:
    """A client of a run's event stream."""

    def __init__(self, dashboard: Dashboard, number: int = 0, *, last_event_id: str | None = None):
        port = dashboard.server.port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.connection.request("GET", f"/api/runs/{number}/events", headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.headers["Content-Type"].startswith("text/event-stream")

    def next(self) -> tuple[str, dict[str, Any]]:
        """The next update: its id and its data."""
        fields: dict[str, str] = {}
        while True:
            line = self.response.fp.readline().decode().rstrip("\n")
            if not line:
                if fields.get("event") == "update":
                    return fields["id"], json.loads(fields["data"])
                fields = {}
                continue
            if line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            fields[key] = value

    def until(self, predicate, timeout: float = 30) -> dict[str, Any]:
        """Updates until one satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, data = self.next()
            if predicate(data):
                return data
        raise AssertionError("no such update in time")

    def close(self) -> None:
        self.connection.close()


class Api:
    """What the tests use, as one fixture (conftest modules are not importable)."""

    EVIL = EVIL
    EVIL_IMG = EVIL_IMG
    Writer = Writer
    Events = Events
    fetch = staticmethod(fetch)
    get_json = staticmethod(get_json)


@pytest.fixture
def api() -> type[Api]:
    return Api
