from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from byop.history import (
    CorruptStoreError,
    NotAStoreError,
    RunHeader,
    RunLimits,
    RunStore,
    StoreError,
    StoreExistsError,
    StoreLockedError,
    StorePermissionError,
    StoreVersionError,
    read_store,
    repair_store,
)
from byop.optimization import ForeignException, RandomSearch, Report
from byop.pipeline import searchable
from byop.serialization import typed_plain


class LibraryError(Exception):
    pass


SPACE = searchable("s", space={"x": (-1.0, 1.0), "i": (1, 9), "c": ["a", "b"]}).space()


def header(**kwargs):
    kwargs.setdefault("optimizer", "random_search")
    kwargs.setdefault("seed", 3)
    kwargs.setdefault("space", typed_plain(SPACE))
    kwargs.setdefault("limits", RunLimits(max_trials=10))
    return RunHeader(**kwargs)


def every_kind_of_report():
    rs = RandomSearch(space=SPACE, seed=3)
    ok = rs.ask()
    with ok.begin():
        success = ok.success(cost=0.5, extra={"nested": [1, 2.5, "s"]}, flag=True)
    bad = rs.ask()
    with bad.begin():
        raise ValueError("went wrong")
    fail = bad.fail(cost=float("inf"))
    broke = rs.ask()
    try:
        raise LibraryError("from a library")
    except LibraryError as e:
        crash = broke.crashed(e)
    plain_fail = rs.ask().fail()
    return [success, fail, crash, plain_fail]


def write_run(path, reports, *, in_flight=(), end=None):
    with RunStore.create(path, header()) as store:
        for report in reports:
            store.started(report.trial)
            store.reported(report)
        for trial in in_flight:
            store.started(trial)
        if end is not None:
            store.end(end)
    return path


def test_every_report_kind_round_trips_equal(tmp_path):
    reports = every_kind_of_report()
    path = write_run(tmp_path / "run.jsonl", reports)
    run = read_store(path)
    assert run.reports == reports
    assert [type(r) for r in run.reports] == [type(r) for r in reports]
    assert run.problems == [] and run.in_flight == []
    fail, crash = run.reports[1], run.reports[2]
    assert isinstance(fail.exception, ValueError) and str(fail.exception) == "went wrong"
    assert fail.traceback == reports[1].traceback and "went wrong" in fail.traceback
    assert isinstance(crash.exception, ForeignException)
    assert crash.exception.type_name.endswith("LibraryError")
    assert "from a library" in crash.traceback
    assert run.reports[0].results["extra"] == {"nested": [1, 2.5, "s"]}
    assert run.header == header(created=run.header.created, byop_version=run.header.byop_version)


def test_header_keeps_run_metadata(tmp_path):
    path = write_run(tmp_path / "run.jsonl", [])
    h = read_store(path).header
    assert (h.optimizer, h.seed, h.limits) == ("random_search", 3, RunLimits(max_trials=10))
    assert [hp["type"] for hp in h.space["hyperparameters"]] == ["Float", "Integer", "Categorical"]
    assert h.byop_version is not None and h.version == 1


def test_in_flight_trials_are_started_without_a_report(tmp_path):
    rs = RandomSearch(space=SPACE, seed=0)
    done = [rs.ask().success(cost=1.0)]
    flying = [rs.ask(), rs.ask()]
    run = read_store(write_run(tmp_path / "run.jsonl", done, in_flight=flying))
    assert run.in_flight == flying
    assert [t.name for t in run.in_flight] == ["rs-1", "rs-2"]


def test_sessions_record_each_writer_and_how_it_ended(tmp_path):
    path = write_run(tmp_path / "run.jsonl", every_kind_of_report()[:1])
    run = read_store(path)
    assert len(run.sessions) == 1 and run.sessions[0].ended is None and not run.finished
    store, _ = RunStore.reopen(path, limits=RunLimits(max_trials=20))
    store.end("exhausted")
    store.close()
    run = read_store(path)
    assert [s.number for s in run.sessions] == [1, 2]
    assert run.sessions[1].exit_status == "exhausted" and run.finished
    assert run.sessions[1].limits == RunLimits(max_trials=20)
    assert run.sessions[1].pid == os.getpid()
    assert run.time_used == pytest.approx(sum(s.duration for s in run.sessions))


def test_torn_last_line_is_dropped_and_cut_on_reopen(tmp_path):
    reports = every_kind_of_report()
    path = write_run(tmp_path / "run.jsonl", reports[:2])
    whole = path.read_bytes()
    torn = b'{"kind": "report", "at": 1.0, "report": {"status": "succ'
    path.write_bytes(whole + torn)
    run = read_store(path)
    assert run.reports == reports[:2]
    assert len(run.problems) == 1 and "torn last record" in run.problems[0]
    store, _ = RunStore.reopen(path)
    store.started(reports[2].trial)
    store.reported(reports[2])
    store.close()
    run = read_store(path)
    assert run.problems == [] and run.reports == reports[:3]


def test_a_damaged_last_line_is_dropped(tmp_path):
    path = write_run(tmp_path / "run.jsonl", every_kind_of_report()[:1])
    with path.open("ab") as f:
        f.write(b'{"kind": "report", "at": 1.0, "report": {"status": "nope"}}\n')
    run = read_store(path)
    assert len(run.reports) == 1
    assert "dropped a damaged last record" in run.problems[0]


def test_damage_in_the_middle_is_a_clear_error_or_recovered(tmp_path):
    reports = every_kind_of_report()
    path = write_run(tmp_path / "run.jsonl", reports)
    lines = path.read_bytes().split(b"\n")
    lines[5] = b"\x00\xff garbage"  # the second report
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(CorruptStoreError, match="line 6 of .* is damaged") as caught:
        read_store(path)
    assert caught.value.line == 6 and caught.value.good_records == 5
    assert "repair" in str(caught.value) and "recover=True" in str(caught.value)
    with pytest.raises(CorruptStoreError):
        RunStore.reopen(path)
    run = read_store(path, recover=True)
    assert run.reports == [reports[0], *reports[2:]]
    assert [t.name for t in run.in_flight] == [reports[1].trial.name]
    assert any("line 6" in p for p in run.problems)

    repaired = repair_store(path)
    assert repaired.reports == run.reports and repaired.problems == []
    assert (tmp_path / "run.jsonl.bak").read_bytes() == b"\n".join(lines)
    store, resumed = RunStore.reopen(path)
    store.close()
    assert resumed.reports == run.reports


def test_truncated_anywhere_reads_everything_before_or_says_not_a_store(tmp_path):
    reports = every_kind_of_report()
    path = write_run(tmp_path / "run.jsonl", reports)
    whole = path.read_bytes()
    line_ends = [i + 1 for i, b in enumerate(whole) if b == ord("\n")]
    cut = tmp_path / "cut.jsonl"
    seen = 0
    for size in range(0, len(whole) + 1, 7):
        cut.write_bytes(whole[:size])
        if size < line_ends[0]:
            with pytest.raises(NotAStoreError):
                read_store(cut)
            continue
        run = read_store(cut)
        complete = [e for e in line_ends if e <= size]
        kept = len(run.reports)
        assert run.reports == reports[:kept]
        assert kept >= seen  # never fewer than a shorter file gave
        seen = kept
        # records of complete lines: header, session, then started/report pairs
        assert kept == max(0, (len(complete) - 2) // 2)
        assert (size in line_ends) == (run.problems == [])


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"hello, world\n", "first line is not a JSON header"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "first line is not a JSON header"),
        (b"[1, 2, 3]\n", "not a run header"),
        (b'{"kind": "header", "format": "other"}\n', "not a 'byop-run' header"),
        (b'{"kind": "header", "format": "byop-run"}\n', "without a valid format version"),
        (b'{"kind": "header", "format": "byop-run", "version": 1, "run": 5}\n', "damaged"),
        (b'{"kind": "header", "format": "byop-r', "no complete header line"),
    ],
)
def test_files_that_are_not_stores_say_so(tmp_path, content, match):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(NotAStoreError, match=match) as caught:
        read_store(path)
    assert caught.value.path == path
    with pytest.raises(NotAStoreError):
        RunStore.reopen(path)


def test_a_directory_and_a_missing_file(tmp_path):
    with pytest.raises(NotAStoreError, match="not a file"):
        read_store(tmp_path)
    with pytest.raises(FileNotFoundError, match="No run store at"):
        read_store(tmp_path / "missing.jsonl")


def test_a_newer_format_asks_for_an_upgrade(tmp_path):
    path = write_run(tmp_path / "run.jsonl", [])
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["version"] = 99
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    with pytest.raises(StoreVersionError, match="format 99.*upgrade byop-core"):
        read_store(path)


def test_records_that_do_not_fit_are_damage(tmp_path):
    reports = every_kind_of_report()
    path = write_run(tmp_path / "run.jsonl", reports[:1])
    good_tail = json.dumps(
        {"kind": "started", "at": 2.0, "trial": {"name": "z", "config": {}}}
    ).encode()
    bad = [
        b'{"kind": "mystery", "at": 1.0}',
        b'{"kind": "started"}',
        b'"just a string"',
        path.read_bytes().split(b"\n")[3],  # the report again: a second report of a trial
        path.read_bytes().split(b"\n")[0],  # a second header
    ]
    original = path.read_bytes()
    for line in bad:
        path.write_bytes(original + line + b"\n" + good_tail + b"\n")
        with pytest.raises(CorruptStoreError, match="line 5"):
            read_store(path)
        assert read_store(path, recover=True).reports == reports[:1]


def test_create_never_overwrites(tmp_path):
    path = write_run(tmp_path / "run.jsonl", [])
    with pytest.raises(StoreExistsError, match="already exists"):
        RunStore.create(path, header())
    other = tmp_path / "notes.txt"
    other.write_text("precious")
    with pytest.raises(StoreExistsError):
        RunStore.create(other, header())
    assert other.read_text() == "precious"
    empty = tmp_path / "sub" / "dir" / "empty.jsonl"
    empty.parent.mkdir(parents=True)
    empty.touch()
    RunStore.create(empty, header()).close()
    assert read_store(empty).header.optimizer == "random_search"
    assert [p.name for p in empty.parent.iterdir()] == ["empty.jsonl"]  # no temporary left


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "run.jsonl"
    store = RunStore.create(path, header())
    with pytest.raises(StoreLockedError, match="another process"):
        RunStore.reopen(path)
    store.close()
    again, _ = RunStore.reopen(path)
    again.close()


def test_a_closed_store_refuses_to_write(tmp_path):
    store = RunStore.create(tmp_path / "run.jsonl", header(), sync=False)
    store.close()
    store.close()
    assert store.closed and "closed" in repr(store)
    with pytest.raises(StoreError, match="is closed"):
        store.started(every_kind_of_report()[0].trial)


def test_stored_names_are_never_imported(tmp_path):
    path = write_run(tmp_path / "run.jsonl", every_kind_of_report()[:1])
    lines = path.read_text().splitlines()
    record = json.loads(lines[3])
    record["report"]["exception"] = {"type": "os.system", "message": "echo pwned"}
    record["report"]["trial"]["info"] = {"type": "subprocess.Popen", "data": {"args": "ls"}}
    lines[3] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    report: Report = read_store(path).reports[0]
    assert isinstance(report.exception, ForeignException)
    assert report.trial.info == {"type": "subprocess.Popen", "data": {"args": "ls"}}


def _strict_json(text):
    """JSON as other tools read it: bare NaN and Infinity are not JSON."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_are_written_as_valid_json_and_read_back(tmp_path):
    trial = RandomSearch(space=SPACE, seed=3).ask()
    inf = float("inf")
    report = trial.success(cost=float("nan"), worst=inf, best=-inf, curve=[1.0, float("nan")])
    path = write_run(tmp_path / "run.jsonl", [report])
    for line in path.read_text().splitlines():
        _strict_json(line)
    back = read_store(path).reports[0]
    assert math.isnan(back["cost"]) and math.isnan(back["curve"][1])
    assert (back["worst"], back["best"], back["curve"][0]) == (inf, -inf, 1.0)


def test_stores_with_bare_nan_and_infinity_still_read(tmp_path):
    trial = RandomSearch(space=SPACE, seed=3).ask()
    path = write_run(tmp_path / "run.jsonl", [trial.fail(cost=float("inf"))])
    text = path.read_text()
    assert '{"$numberDouble":"Infinity"}' in text
    path.write_text(text.replace('{"$numberDouble":"Infinity"}', "Infinity"))  # written before
    assert read_store(path).reports[0]["cost"] == float("inf")


def test_a_store_that_cannot_be_created_names_the_store(tmp_path, monkeypatch):
    path = tmp_path / "run.jsonl"
    real_open = Path.open

    def denied(self, *args, **kwargs):
        if self.name.endswith(".new"):  # the temporary file a store is created in
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(StorePermissionError) as e:
        RunStore.create(path, header())
    message = str(e.value)
    assert message.startswith(f"Cannot create the run store {path}: Permission denied")
    assert ".new" not in message and isinstance(e.value, PermissionError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_store_in_a_read_only_directory_names_the_store(tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        with pytest.raises(StorePermissionError, match=r"Cannot create the run store .*run.jsonl"):
            RunStore.create(directory / "run.jsonl", header())
    finally:
        directory.chmod(0o755)
