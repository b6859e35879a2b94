from __future__ import annotations

import os

import pytest

from byop.history import (
    RunHeader,
    RunLimits,
    RunStore,
    StoreFollower,
    read_store,
    repair_store,
)
from byop.optimization import RandomSearch, Trial
from byop.pipeline import searchable
from byop.serialization import typed_plain

SPACE = searchable("s", space={"x": (-1.0, 1.0), "k": ["a", "b"]}).space()


def header():
    return RunHeader(
        optimizer="random_search", seed=0, space=typed_plain(SPACE), limits=RunLimits(max_trials=50)
    )


class Writer:
    """A run's writer: trials from a random search, reported one by one."""

    def __init__(self, path):
        self.rs = RandomSearch(space=SPACE, seed=0)
        self.store = RunStore.create(path, header(), sync=False)

    def report(self, n=1, *, fail=False):
        for _ in range(n):
            trial = self.rs.ask()
            self.store.started(trial)
            if fail:
                self.store.reported(trial.fail())
            else:
                self.store.reported(trial.success(cost=trial.config["x"] ** 2))

    def close(self):
        self.store.close()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "run.jsonl"


def names(items):
    return [getattr(i, "trial", i).name for i in items]  # reports' trials, or trials


def test_follows_a_growing_store_reading_each_record_once(path):
    follower = StoreFollower(path)
    writer = Writer(path)
    writer.report(3)
    first = follower.poll()
    assert names(first.reports) == ["rs-0", "rs-1", "rs-2"] and not first.reset
    assert names(first.started) == ["rs-0", "rs-1", "rs-2"]
    assert follower.poll().changed is False
    writer.report(2, fail=True)
    second = follower.poll()
    assert names(second.reports) == ["rs-3", "rs-4"]
    assert [r.status.value for r in second.reports] == ["fail", "fail"]
    writer.store.end("exhausted")
    writer.close()
    follower.poll()
    # What it built up is what reading the whole store gives.
    whole = read_store(path)
    assert follower.run.reports == whole.reports
    assert follower.run.sessions == whole.sessions and follower.run.finished
    assert follower.run.valid_bytes == whole.valid_bytes == path.stat().st_size
    assert follower.bytes_read == path.stat().st_size


def test_a_poll_reads_only_the_appended_bytes(path, monkeypatch):
    writer = Writer(path)
    writer.report(20)
    follower = StoreFollower(path)
    follower.poll()
    size = path.stat().st_size
    writer.report(1)
    appended = path.stat().st_size - size
    read: list[int] = []
    real = os.pread

    def counting(fd, n, offset):
        data = real(fd, n, offset)
        read.append(len(data))
        return data

    monkeypatch.setattr(os, "pread", counting)
    assert names(follower.poll().reports) == ["rs-20"]
    assert sum(read) <= appended + 64  # the new record, and a few bytes to check continuity
    writer.close()


def test_an_incomplete_last_line_waits_for_its_end(path):
    writer = Writer(path)
    writer.report(1)
    writer.close()
    follower = StoreFollower(path)
    follower.poll()
    record = (
        b'{"kind":"started","at":1.0,"trial":{"name":"late","config":{"x":0.5,"k":"a"},'
        b'"info":null,"seed":null,"budget":null}}\n'
    )
    with path.open("ab") as f:
        f.write(record[:30])  # half a record: being written
    update = follower.poll()
    assert not update.changed and follower.pending_bytes == 30
    with path.open("ab") as f:
        f.write(record[30:])
    update = follower.poll()
    assert names(update.started) == ["late"] and follower.pending_bytes == 0


def test_damaged_lines_are_skipped_and_said(path):
    writer = Writer(path)
    writer.report(2)
    with path.open("ab") as f:
        f.write(b'{"kind": "report", "at": 1.0, "report": {"nonsense": true}}\n')
        f.write(b"\x00\xffnot json\n")
    writer.report(1)
    writer.close()
    follower = StoreFollower(path)
    update = follower.poll()
    assert names(update.reports) == ["rs-0", "rs-1", "rs-2"]
    assert len(update.problems) == 2 and "skipped a damaged record" in update.problems[0]
    assert follower.run.problems == list(update.problems)


def test_a_torn_record_cut_by_a_resume_is_never_read(path):
    writer = Writer(path)
    writer.report(3)
    writer.close()
    with path.open("ab") as f:
        f.write(b'{"kind":"report","at":1')  # torn: the run was killed mid-write
    follower = StoreFollower(path)
    follower.poll()
    assert follower.pending_bytes > 0
    store, _ = RunStore.reopen(path, sync=False)  # cuts the torn record, appends a session
    trial = Trial(name="after-resume", config={"x": 0.0, "k": "a"})
    store.reported(trial.success(cost=0.0))
    store.close()
    update = follower.poll()
    assert not update.reset and update.problems == ()  # what it had read is still there
    assert names(update.reports) == ["after-resume"]
    assert follower.run.reports == read_store(path).reports
    assert len(follower.run.sessions) == 2 and follower.pending_bytes == 0


def test_a_store_cut_and_written_again_is_read_again(path):
    writer = Writer(path)
    writer.report(3)
    follower = StoreFollower(path)
    follower.poll()
    writer.close()
    keep = read_store(path).reports[:1]
    path.unlink()
    with RunStore.create(path, header(), sync=False) as store:  # same path, new content
        for report in keep:
            store.reported(report)
        store.reported(Trial(name="new", config={"x": 0.1, "k": "b"}).success(cost=0.01))
    update = follower.poll()
    assert update.reset and names(update.reports) == ["rs-0", "new"]
    assert names(follower.run.reports) == ["rs-0", "new"]


def test_a_replaced_store_is_read_again(path):
    writer = Writer(path)
    writer.report(2)
    with path.open("ab") as f:
        f.write(b"damaged\n")
    writer.report(1)
    writer.close()
    follower = StoreFollower(path)
    assert len(follower.poll().problems) == 1
    repair_store(path)  # a new file in its place
    update = follower.poll()
    assert update.reset and names(update.reports) == ["rs-0", "rs-1", "rs-2"]
    assert follower.run.problems == []


def test_not_yet_a_store_then_a_store(path):
    follower = StoreFollower(path)
    assert follower.poll() == follower.poll()  # nothing, twice
    assert follower.run is None and "No run store" in follower.error
    path.write_text("name,cost\na,1\n")
    follower.poll()
    assert follower.run is None and "not a byop run store" in follower.error
    path.unlink()
    writer = Writer(path)
    writer.report(1)
    update = follower.poll()
    assert follower.error is None and names(update.reports) == ["rs-0"]
    writer.close()
    path.unlink()
    update = follower.poll()
    assert update.reset and follower.run is None and "No run store" in follower.error


def test_a_directory_or_a_newer_format_is_an_error_not_an_exception(tmp_path):
    follower = StoreFollower(tmp_path)
    follower.poll()
    assert "directory" in follower.error
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"kind":"header","format":"byop-run","version":99,"at":0,"run":{}}\n')
    follower = StoreFollower(newer)
    follower.poll()
    assert "newer than this byop reads" in follower.error


def test_an_unfinished_header_is_waited_for(path):
    path.write_bytes(b'{"kind":"header","format":"byop-run"')
    follower = StoreFollower(path)
    follower.poll()
    assert follower.run is None and "no complete header line" in follower.error
