"""Results and arguments crossing the process back end's pipes: any size, linear, not timed."""

from __future__ import annotations

import os
import pickle
import random
import select
import threading
import tracemalloc

import numpy as np
import pytest
from support.objectives import echo_info, large_result, slow_to_send_trial, unloadable_unless

from byop.optimization import RandomSearch, RSTrialInfo, Trial
from byop.scheduling import NotPicklableError, ProcessBackend, Scheduler, Task
from byop.scheduling import _remote as remote
from byop.scheduling._compact import Compactor, expand
from byop.scheduling._wire import Channel, load


def _pipe_channels() -> tuple[Channel, Channel]:
    r, w = os.pipe()
    return Channel(-1, w), Channel(r, -1)


def _read_all(reader: Channel, n: int) -> list[object]:
    """Read ``n`` messages as the main process does: poll, then one read per readiness."""
    poll = select.poll()
    poll.register(reader.rfd, select.POLLIN)
    out: list[object] = []
    while len(out) < n:
        assert poll.poll(30_000), "nothing arrived within 30 s"
        messages = reader.read_ready()
        assert messages is not None, "the pipe closed early"
        out.extend(load(m) for m in messages)
    return out


def test_a_large_message_is_read_into_one_buffer_of_its_size():
    # The reader rebuilt its buffer with `buf + chunk` for every 64 KiB read: quadratic in
    # the size (40 MB took 9 s) and, at the end, two copies of the message in memory at once.
    # Read linearly, the message is read straight into one buffer of its size.
    size = 40_000_000
    payload = np.arange(size // 8, dtype=np.float64)
    writer, reader = _pipe_channels()
    tracemalloc.start()
    try:
        sender = threading.Thread(target=writer.send, args=((1, payload),))
        sender.start()
        [(tag, back)] = _read_all(reader, 1)
        sender.join()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        writer.close()
        reader.close()
    assert tag == 1 and np.array_equal(back, payload)
    assert back.flags.writeable
    assert peak < size + 2_000_000, f"reading a {size} B message took {peak} B at peak"
    assert reader.reads <= size // (1 << 16) + 4


@pytest.mark.skipif(not remote.AVAILABLE, reason="no process_vm_readv here")
def test_a_workers_large_buffers_are_read_from_its_memory():
    # 40 MB of arrays: the pipe carries the header and the pickle, the arrays are copied once.
    payload = np.arange(5_000_000, dtype=np.float64)
    r, w = os.pipe()
    writer = Channel(-1, w, share=True)
    reader = Channel(r, -1, peer=os.getpid())  # this process plays both ends
    writer.send((1, payload))
    [(tag, back)] = _read_all(reader, 1)
    assert reader.reads == 1
    assert tag == 1 and np.array_equal(back, payload)
    back[0] = -1.0  # a copy of the reader's own
    assert payload[0] == 0.0
    writer.close()
    reader.close()


def test_where_the_senders_memory_cannot_be_read_it_comes_again_through_the_pipe():
    payload = np.arange(2_000_000, dtype=np.float64)  # 16 MB
    to_reader_r, to_reader_w = os.pipe()
    to_writer_r, to_writer_w = os.pipe()
    writer = Channel(to_writer_r, to_reader_w, share=True)
    reader = Channel(to_reader_r, to_writer_w, peer=0)  # no process it may read

    def worker():
        writer.send(payload)
        assert writer.recv() is None  # answers the request to resend, then the pipe closes

    sender = threading.Thread(target=worker)
    sender.start()
    [back] = _read_all(reader, 1)
    reader.close()
    sender.join()
    writer.close()
    assert np.array_equal(back, payload)
    assert not writer.share  # and later messages come through the pipe at once


@pytest.mark.skipif(not remote.AVAILABLE, reason="no process_vm_readv here")
def test_a_large_pickle_is_read_from_the_senders_memory_too():
    payload = os.urandom(1000) * 20_000  # 20 MB of bytes: inside the pickle
    r, w = os.pipe()
    writer = Channel(-1, w, share=True)
    reader = Channel(r, -1, peer=os.getpid())
    writer.send(payload)
    [back] = _read_all(reader, 1)
    assert reader.reads == 1 and back == payload
    writer.close()
    reader.close()


def test_large_bytes_are_read_linearly_too():
    size = 20_000_000
    payload = os.urandom(1000) * (size // 1000)
    writer, reader = _pipe_channels()
    sender = threading.Thread(target=writer.send, args=(payload,))
    sender.start()
    tracemalloc.start()
    try:
        [back] = _read_all(reader, 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        sender.join()
        writer.close()
        reader.close()
    assert back == payload
    # The message's buffer, and the bytes unpickled from it: never a third copy.
    assert peak < 2 * size + 2_000_000, f"reading a {size} B message took {peak} B at peak"


@pytest.mark.parametrize("seed", range(5))
def test_messages_cut_anywhere_arrive_whole_and_in_order(seed):
    rng = random.Random(seed)
    big = np.arange(40_000, dtype=np.int64)  # 320 kB: out of band
    messages = [
        None,
        (1, "a" * rng.randrange(200_000)),
        {"x": big, "y": [big[:10], big]},
        b"",
        list(range(rng.randrange(1000))),
    ]
    writer, raw = _pipe_channels()
    wire = bytearray()
    for m in messages:
        sender = threading.Thread(target=writer.send, args=(m,))
        sender.start()
        while sender.is_alive() or _readable(raw.rfd):
            if _readable(raw.rfd):
                wire += os.read(raw.rfd, 1 << 20)
        sender.join()
    writer.close()
    raw.close()
    # Feed the bytes again, cut at random places, one read per piece.
    r, w = os.pipe()
    reader = Channel(r, -1)
    got: list[object] = []
    at = 0
    while at < len(wire):
        piece = rng.choice([1, 2, 3, 7, 13, 4096, 60_000, 65_536])
        os.write(w, wire[at : at + piece])
        at += piece
        while _readable(r):
            ready = reader.read_ready()
            assert ready is not None
            got.extend(load(m) for m in ready)
    os.close(w)
    reader.close()
    assert len(got) == len(messages)
    assert got[0] is None and got[1] == messages[1] and got[3] == b"" and got[4] == messages[4]
    assert np.array_equal(got[2]["x"], big) and np.array_equal(got[2]["y"][1], big)


def _readable(fd: int) -> bool:
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


def test_a_40mb_result_under_a_2s_wall_time_limit_succeeds():
    scheduler = Scheduler.with_processes(1)
    task = Trial.Task(large_result, scheduler, wall_time_limit=2.0)
    reports = []

    @scheduler.on_start
    def start():
        task(Trial(name="big", config={"mb": 40}))

    task.on_report(reports.append)
    scheduler.run(timeout=120)
    [report] = reports
    assert report.status.value == "success", report.exception
    assert len(report["data"]) == 40_000_000


def test_sending_a_result_does_not_count_against_the_wall_time_limit():
    # The trial returns at once; pickling its result takes 1 s, far past the limit and the
    # back end's grace: the limit covers the trial, not the transfer of its finished result.
    scheduler = Scheduler(ProcessBackend(1, grace=0.05))
    task = Trial.Task(slow_to_send_trial, scheduler, wall_time_limit=0.2)
    reports = []

    @scheduler.on_start
    def start():
        task(Trial(name="slow-send", config={"send": 1.0}))

    task.on_report(reports.append)
    scheduler.run(timeout=120)
    [report] = reports
    assert report.status.value == "success", report.exception
    assert report["data"] == "sent"


def test_a_message_with_thousands_of_buffers_arrives_whole():
    arrays = [np.full(10_000, i, dtype=np.float64) for i in range(1500)]  # 80 kB each
    writer, reader = _pipe_channels()
    sender = threading.Thread(target=writer.send, args=(arrays,))
    sender.start()
    [back] = _read_all(reader, 1)
    sender.join()
    writer.close()
    reader.close()
    assert len(back) == 1500 and all((a == i).all() for i, a in enumerate(back))


def test_large_arguments_reach_the_worker():
    scheduler = Scheduler.with_processes(1)
    task = Task(len, scheduler)
    results = []
    task.on_result(lambda call, result: results.append(result))

    @scheduler.on_start
    def start():
        task(np.ones(5_000_000))  # 40 MB, out of band
        task(b"x" * 30_000_000)  # 30 MB, in the pickle
        task([1, 2, 3])

    scheduler.run(timeout=120)
    assert sorted(results) == [3, 5_000_000, 30_000_000]


def test_an_outcome_the_main_process_cannot_unpickle_fails_only_its_call():
    scheduler = Scheduler.with_processes(1)
    task = Task(unloadable_unless, scheduler)
    results, errors = [], []
    task.on_result(lambda call, result: results.append(result))
    task.on_exception(lambda call, e: errors.append(e))

    @scheduler.on_start
    def start():
        task(None)
        task(2)

    scheduler.run(timeout=60)
    assert results == [4]
    [error] = errors
    assert isinstance(error, NotPicklableError)
    assert "cannot be unpickled in the main process" in str(error)
    assert "unloadable_unless" in str(error)


def test_a_message_cut_short_by_the_end_of_the_pipe_is_dropped():
    r, w = os.pipe()
    reader = Channel(r, -1)
    os.write(w, bytes([0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0]) + b"only part")  # 100 announced
    os.close(w)
    assert reader.read_ready() == []  # a partial message: nothing yet
    assert reader.read_ready() is None  # then the end of the pipe
    reader.close()


class _Point:
    def __init__(self, x: int) -> None:
        self.x = x

    def __reduce__(self):
        return (_Point, (self.x,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Point) and other.x == self.x

    __hash__ = None  # type: ignore[assignment]


class _Odd(_Point):
    def __reduce__(self):
        return (_Point, (self.x,), {"x": self.x})  # with a state: travels as itself


def test_compacted_objects_come_back_equal_and_name_their_class_once():
    codes: dict = {}
    first, second = Compactor(codes), Compactor(codes)  # two workers of one back end
    info = RSTrialInfo(3, 2)
    sent = first.compact(info)
    assert sent[0] >= 0 and sent[2] is RSTrialInfo  # the reconstructor, the first time
    assert expand(sent) == info  # (this process plays the worker)
    assert first.compact(RSTrialInfo(4, 1))[2] is None  # then only the code and the args
    assert second.compact(info)[2] is RSTrialInfo  # each worker is told once
    for obj in (info, None, {"a": 1}, "text", _Point(2), _Odd(5), RSTrialInfo(9, 9)):
        wire = first.compact(obj)
        assert expand(pickle.loads(pickle.dumps(wire))) == obj
    assert first.compact({"a": 1})[0] == -1  # plain data travels as itself


def test_an_optimizers_info_reaches_the_objective_in_the_worker():
    scheduler = Scheduler.with_processes(2)
    task = Trial.Task(echo_info, scheduler)
    optimizer = RandomSearch(space={"x": (0.0, 1.0)}, seed=0)
    asked, reports = [], []

    @scheduler.on_start
    def start():
        for trial in [optimizer.ask() for _ in range(4)] + [
            Trial(name="custom", config={}, info=_Point(7), seed=5, budget=2.0),
            Trial(name="odd", config={}, info=_Odd(8)),
        ]:
            asked.append(trial)
            task(trial)

    task.on_report(reports.append)
    scheduler.run(timeout=60)
    seen = {r.trial.name: r.results for r in reports}
    for trial in asked:
        assert seen[trial.name]["info"] == trial.info, trial
        assert seen[trial.name]["seed"] == trial.seed
        assert seen[trial.name]["budget"] == trial.budget


def test_a_workers_start_up_does_not_count_against_the_wall_time_limit():
    # A fresh interpreter takes far longer than 50 ms to start and import byop; the trial itself
    # takes microseconds. The limit covers the trial: it counts from when the worker starts it.
    scheduler = Scheduler(ProcessBackend(1, start_method="exec", grace=0.0))
    task = Trial.Task(echo_info, scheduler, wall_time_limit=0.05)
    reports = []
    scheduler.on_start(lambda: task(Trial(name="quick", config={})))
    task.on_report(reports.append)
    scheduler.run(timeout=120)
    [report] = reports
    assert report.status.value == "success", report.exception


def test_a_result_that_fits_its_memory_limit_is_sent_however_large_its_pickle():
    # 60 MB of bytes under a 100 MB limit: its pickle is a second copy, 120 MB in all. The limit
    # covers the trial, not the pickling of its result.
    scheduler = Scheduler.with_processes(1)
    task = Trial.Task(large_result, scheduler, memory_limit="100MB")
    reports = []
    scheduler.on_start(lambda: task(Trial(name="big", config={"mb": 60})))
    task.on_report(reports.append)
    scheduler.run(timeout=120)
    [report] = reports
    assert report.status.value == "success", report.exception
    assert len(report["data"]) == 60_000_000
