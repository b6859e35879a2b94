from __future__ import annotations

import gzip
import json
import socket
import time

import pytest

from byop.dashboard import Dashboard
from byop.dashboard._watch import PLOT_KINDS


def wait_for(dashboard, predicate, timeout=30.0):
    """Wait, on the run's own changes, until ``predicate(status)`` holds."""
    watch = dashboard.watches[0]
    deadline = time.monotonic() + timeout
    version = -1
    while time.monotonic() < deadline:
        status = json.loads(watch.status_json())
        if predicate(status):
            return status
        version = watch.wait(version if version >= 0 else watch.version, 1.0)
    raise AssertionError(f"not in {timeout}s: {json.loads(watch.status_json())}")


def test_lists_runs_with_their_state_and_best(serve, api, finished):
    dashboard = serve(finished)
    runs = api.get_json(dashboard.url + "api/runs")
    assert len(runs) == 1
    run = runs[0]
    assert run["name"] == "finished.jsonl" and run["state"] == "finished"
    assert run["trials"] == 60 and run["max_trials"] == 60
    assert sum(run["counts"].values()) == 60 and run["counts"]["crashed"] == 3
    assert run["best"]["metric"] == "cost" and "best" in run["summary"]
    assert run == api.get_json(dashboard.url + "api/runs/0")


def test_pages_scripts_and_plotly_come_from_the_server(serve, api, finished):
    dashboard = serve(finished)
    status, headers, page = api.fetch(dashboard.url + "runs/0")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'src="/static/plotly.min.js"' in page and b"http" not in page.split(b"<body")[0]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = api.fetch(
        dashboard.url + "static/plotly.min.js", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert b"plotly" in gzip.decompress(body)[:2000].lower()
    for name in ("dashboard.js", "dashboard.css", "favicon.svg"):
        assert api.fetch(dashboard.url + "static/" + name)[0] == 200
    assert api.fetch(dashboard.url + "favicon.ico")[0] == 200
    status, _, page = api.fetch(dashboard.url + "runs/5")  # no such run: the list of runs
    assert status == 200 and b'data-page="index"' in page


@pytest.mark.parametrize(
    "path",
    [
        "static/../_server.py",
        "static/%2e%2e/%2e%2e/etc/passwd",
        "static/__init__.py",
        "static/run.html/../../x",
        "runs/0/../../etc/passwd",
        "api/runs/1",
        "api/runs/99999999",
        "api/runs/0/plots/../../x",
        "api/runs/0/plots/contour",
        "api/runs/0/trials/60",
        "api/runs/-1",
        "etc/passwd",
    ],
)
def test_nothing_outside_the_given_stores_is_served(serve, api, finished, path):
    dashboard = serve(finished)
    status, _, body = api.fetch(dashboard.url + path)
    assert status == 404, body[:200]


def test_read_only(serve, api, finished):
    before = finished.read_bytes()
    dashboard = serve(finished)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert api.fetch(dashboard.url + "api/runs/0", method=method)[0] == 405
    for kind in PLOT_KINDS:
        api.fetch(dashboard.url + f"api/runs/0/plots/{kind}")
    assert finished.read_bytes() == before


def test_answers_only_requests_addressed_to_loopback_names(serve, api, finished):
    dashboard = serve(finished)
    port = dashboard.server.port
    assert api.fetch(dashboard.url + "api/runs", headers={"Host": "evil.example"})[0] == 421
    assert api.fetch(dashboard.url + "api/runs", headers={"Host": f"evil.example:{port}"})[0] == 421
    assert api.fetch(dashboard.url + "api/runs", headers={"Host": f"localhost:{port}"})[0] == 200


def test_events_follow_a_live_run(serve, api, tmp_path):
    path = tmp_path / "live.jsonl"
    writer = api.Writer(path)
    writer.report(5)
    dashboard = serve(path)
    events = api.Events(dashboard)
    try:
        first = events.until(lambda d: d["total"] >= 5)
        assert first["start"] == 0 and [r["name"] for r in first["rows"]] == [
            f"rs-{i}" for i in range(5)
        ]
        assert first["status"]["state"] == "running"  # its writer (this process) is alive
        writer.report(3)
        later = events.until(lambda d: d["total"] == 8)
        assert later["start"] == 5 and [r["n"] for r in later["rows"]] == [5, 6, 7]
        writer.end()
        done = events.until(lambda d: d["status"]["state"] == "finished")
        assert done["rows"] == [] and done["status"]["note"] == "ended: exhausted"
    finally:
        events.close()


def test_events_resume_where_the_client_stopped(serve, api, finished):
    dashboard = serve(finished)
    events = api.Events(dashboard, last_event_id="0:55")
    try:
        event_id, data = events.next()
        assert data["start"] == 55 and len(data["rows"]) == 5 and event_id == "0:60"
    finally:
        events.close()
    events = api.Events(dashboard, last_event_id="7:55")  # another epoch: everything again
    try:
        assert events.next()[1]["start"] == 0
    finally:
        events.close()


def test_a_big_run_comes_in_several_messages(serve, api, tmp_path):
    path = tmp_path / "big.jsonl"
    writer = api.Writer(path, max_trials=2500)
    writer.report(2500)
    writer.end()
    dashboard = serve(path)
    events = api.Events(dashboard)
    try:
        rows = []
        while len(rows) < 2500:
            _, data = events.next()
            assert data["start"] == len(rows)
            rows += data["rows"]
        assert [r["n"] for r in rows] == list(range(2500))
    finally:
        events.close()


def test_plots_and_trial_details(serve, api, finished):
    dashboard = serve(finished)
    for kind in PLOT_KINDS:
        answer = api.get_json(dashboard.url + f"api/runs/0/plots/{kind}")
        assert "figure" in answer, answer.get("error")
        assert answer["version"] == answer["latest"] and answer["retry"] is None
    pareto = api.get_json(dashboard.url + "api/runs/0/plots/pareto")["figure"]
    assert "one objective" in pareto["layout"]["annotations"][0]["text"]
    rows = []
    events = api.Events(dashboard)
    try:
        rows = events.next()[1]["rows"]
    finally:
        events.close()
    failed = next(r for r in rows if r["status"] == "fail")
    assert failed["exception"].startswith("ValueError: lr")
    trial = api.get_json(dashboard.url + f"api/runs/0/trials/{failed['n']}")
    assert trial["name"] == failed["name"] and "Traceback" in trial["traceback"]
    assert api.EVIL in trial["exception"]  # raw in the JSON; the page shows it as text


def test_plots_are_not_made_again_for_each_client(serve, api, tmp_path):
    path = tmp_path / "live.jsonl"
    writer = api.Writer(path)
    writer.report(30)
    dashboard = serve(path)
    first = api.get_json(dashboard.url + "api/runs/0/plots/history")
    writer.report(1)
    wait_for(dashboard, lambda s: s["trials"] == 31)
    second = api.get_json(dashboard.url + "api/runs/0/plots/history")
    # Within a second of the last, the same plot is served, with when to ask again.
    assert second["version"] == first["version"] < second["latest"]
    assert 0 < second["retry"] <= 1.0
    writer.end()


def test_torn_and_damaged_stores_show_what_can_be_read(serve, api, finished, tmp_path):
    damaged = tmp_path / "damaged.jsonl"
    lines = finished.read_bytes().split(b"\n")
    third_report = [i for i, line in enumerate(lines) if b'"kind":"report"' in line][2]
    lines[third_report] = b'{"kind": "report", "broken'
    damaged.write_bytes(b"\n".join(lines) + b'{"kind":"report","at":1')  # and a torn tail
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x00\x01 not a store at all\n")
    missing = tmp_path / "later.jsonl"
    dashboard = serve(damaged, garbage, missing)
    runs = api.get_json(dashboard.url + "api/runs")
    assert runs[0]["state"] == "finished" and runs[0]["trials"] == 59
    damage = f"line {third_report + 1}: skipped a damaged record"
    assert any(damage in p for p in runs[0]["problems"])
    assert runs[0]["pending_bytes"] == len(b'{"kind":"report","at":1')
    assert runs[1]["state"] == "unreadable" and "not a byop run store" in runs[1]["error"]
    assert runs[2]["state"] == "waiting" and runs[2]["trials"] == 0
    assert "error" in api.get_json(dashboard.url + "api/runs/1/plots/history")
    # The missing store appears: it is read from then on.
    missing.write_bytes(finished.read_bytes())
    deadline = time.monotonic() + 30
    while api.get_json(dashboard.url + "api/runs/2")["trials"] != 60:
        dashboard.watches[2].wait(dashboard.watches[2].version, 1.0)
        assert time.monotonic() < deadline


def test_a_killed_run_shows_as_stopped(serve, api, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "killed.jsonl"
    code = (
        "import sys\n"
        "from byop.history import RunHeader, RunStore\n"
        "from byop.optimization import Trial\n"
        f"store = RunStore.create({str(path)!r}, RunHeader(optimizer='manual'), sync=False)\n"
        "t = Trial(name='t0', config={'x': 1.0}); store.started(t)\n"
        "store.reported(t.success(cost=1.0)); store.started(Trial(name='t1', config={}))\n"
        "print('ready', flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        dashboard = serve(path)
        status = wait_for(dashboard, lambda s: s["trials"] == 1)
        assert status["state"] == "running" and status["in_flight_names"] == ["t1"]
        proc.kill()
        proc.wait(timeout=30)
        status = wait_for(dashboard, lambda s: s["state"] == "stopped")
        assert "killed or crashed" in status["note"]
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_refuses_bad_arguments(finished, tmp_path):
    with pytest.raises(ValueError, match="at least one run store"):
        Dashboard([], port=0)
    with pytest.raises(ValueError, match="poll_interval"):
        Dashboard([finished], port=0, poll_interval=0)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"):
            Dashboard([finished], port=taken.getsockname()[1])
    (tmp_path / "only").mkdir()
    with pytest.raises(ValueError, match="at least one"):
        Dashboard([tmp_path / "only"], port=0)


def test_a_directory_of_stores(serve, api, finished, tmp_path):
    (tmp_path / "notes.txt").write_text("not a store")
    dashboard = serve(tmp_path, finished)  # the file twice: served once
    assert [p.name for p in dashboard.stores] == ["finished.jsonl"]
    assert repr(dashboard).startswith("Dashboard('http://127.0.0.1:")
