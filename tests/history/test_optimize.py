"""`optimize()`: the one-call path, its store and resuming."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from support import history_objectives as objectives

from byop.history import (
    RunHeader,
    RunStore,
    StoreMismatchError,
    read_store,
)
from byop.optimization import Metric, RandomSearch
from byop.pipeline import searchable
from byop.run import NoRunLimitsError, ResumeNotSupportedError, optimize
from byop.scheduling import UnknownBackendError, WallTimeLimitExceeded
from byop.serialization import typed_plain

SPACE = searchable("s", space={"x": (-5.0, 5.0)}).space()


def run(**kwargs):
    kwargs.setdefault("seed", 0)
    kwargs.setdefault("backend", "threads")
    kwargs.setdefault("n_workers", 2)
    kwargs.setdefault("progress", "off")
    objective = kwargs.pop("objective", objectives.quadratic)
    space = kwargs.pop("space", SPACE)
    return optimize(objective, space, **kwargs)


def test_a_budget_is_required():
    with pytest.raises(NoRunLimitsError, match=r"needs a run limit.*max_trials=.*timeout="):
        optimize(objectives.quadratic, SPACE)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_trials": 0}, "max_trials must be a positive int"),
        ({"max_trials": 2.5}, "max_trials must be a positive int"),
        ({"timeout": -1}, "timeout must be a positive number"),
        ({"max_trials": 3, "n_workers": 0}, "n_workers must be a positive int"),
        ({"max_trials": 3, "progress": "loud"}, "progress must be one of"),
    ],
)
def test_bad_arguments_are_clear(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimize(objectives.quadratic, SPACE, **kwargs)


@pytest.mark.parametrize("optimizer", ["random_search", "optuna", "smac"])
def test_a_misspelt_parameter_names_optimize_and_the_close_one(optimizer, tmp_path):
    store = tmp_path / "run.jsonl"
    with pytest.raises(TypeError) as e:
        run(optimizer=optimizer, max_trials=1, n_worker=4, store=store)
    message = str(e.value)
    assert message.startswith("optimize() got n_worker=")
    assert "Did you mean n_workers= instead of n_worker=?" in message
    assert "__init__" not in message and "create()" not in message
    assert "optimize() takes: optimizer, seed, n_workers" in message
    assert not store.exists()  # refused before anything was written


def test_an_optimizer_option_close_to_a_parameter_of_optimize_still_goes_to_the_optimizer():
    history = run(optimizer="smac", max_trials=2, n_trials=5, backend="sequential")
    assert len(history) == 2  # SMAC's n_trials, not a misspelt max_trials


def test_runs_the_budget_and_returns_the_history(capsys):
    history = run(max_trials=20)
    assert len(history) == 20 and len(set(history.names())) == 20
    assert history.counts()["success"] == 20
    assert history.best()["cost"] == min(r["cost"] for r in history)
    assert capsys.readouterr() == ("", "")  # progress="off"


def test_same_seed_same_configurations():
    first = run(max_trials=8, backend="sequential")
    second = run(max_trials=8, backend="sequential")
    assert [r.trial.config for r in first] == [r.trial.config for r in second]


def test_processes_with_limits_failures_and_crashes_are_reported_and_stored(tmp_path):
    space = searchable("s", space={"x": (-4.0, 4.0)}).space()
    path = tmp_path / "runs" / "mixed.jsonl"
    history = optimize(
        objectives.mixed,
        space,
        seed=1,  # draws one x in (2.5, 3]: a trial that breaks the wall-time limit
        n_workers=2,
        backend="processes",
        max_trials=40,
        wall_time_limit=0.5,
        store=path,
        progress="off",
    )
    assert len(history) == 40
    statuses = {r.trial.name: r.status.value for r in history}
    for report in history:
        x = report.trial.config["x"]
        if x > 3:
            assert report.status == "crashed" and "crashed at" in str(report.exception)
        elif x < -3:
            assert report.status == "fail" and isinstance(report.exception, ValueError)
        elif x > 2.5:
            assert report.status == "fail"
            assert isinstance(report.exception, WallTimeLimitExceeded)
        else:
            assert report.status == "success"
    assert set(statuses.values()) == {"success", "fail", "crashed"}
    assert any(isinstance(r.exception, WallTimeLimitExceeded) for r in history)
    stored = read_store(path)
    assert stored.reports == history.reports  # the store holds exactly what was returned
    assert stored.in_flight == [] and stored.sessions[-1].exit_status == "exhausted"


def test_the_store_header_describes_the_run(tmp_path):
    path = tmp_path / "run.jsonl"
    run(max_trials=4, store=path, seed=11, memory_limit="1GB")
    header = read_store(path).header
    assert header.optimizer == "random_search" and header.seed == 11
    assert header.space == typed_plain(SPACE)
    assert header.limits.max_trials == 4 and header.limits.timeout is None
    assert header.objective == "support.history_objectives.quadratic"
    assert header.extra["n_workers"] == 2 and header.extra["memory_limit"] == 10**9


def test_resuming_with_a_larger_budget_continues_the_run(tmp_path):
    path = tmp_path / "run.jsonl"
    first = run(max_trials=5, store=path)
    more = run(max_trials=12, store=path, seed=None)  # the stored seed is kept
    assert more.names()[:5] == first.names()
    assert more.reports[:5] == first.reports
    assert sorted(more.names()) == sorted(f"rs-{i}" for i in range(12))
    stored = read_store(path)
    assert [s.exit_status for s in stored.sessions] == ["exhausted", "exhausted"]
    assert stored.sessions[1].limits.max_trials == 12
    # Resuming a run whose budget is spent runs nothing.
    again = run(max_trials=12, store=path)
    assert again.names() == more.names()
    assert len(read_store(path).sessions) == 3


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"seed": 99}, "seed: stored 0, given 99"),
        ({"space": searchable("s", space={"x": (-5.0, 6.0)}).space()}, "space"),
        ({"space": searchable("s", space={"x": (-5, 5)}).space()}, "space"),
        ({"metrics": [Metric("cost", minimize=False)]}, "metrics"),
        ({"optimizer": "hillclimb"}, "optimizer: stored 'random_search'"),
    ],
)
def test_resuming_with_other_settings_is_refused_and_changes_nothing(tmp_path, change, match):
    path = tmp_path / "run.jsonl"
    run(max_trials=3, store=path)
    before = path.read_bytes()
    with pytest.raises(StoreMismatchError, match=match) as caught:
        run(max_trials=6, store=path, **change)
    assert "new store path" in str(caught.value)
    assert path.read_bytes() == before


def test_an_optimizer_without_restore_cannot_resume(tmp_path):
    class Plain:
        def __init__(self):
            self.inner = RandomSearch(space=SPACE, seed=0)

        def ask(self):
            return self.inner.ask()

        def tell(self, report):
            self.inner.tell(report)

    path = tmp_path / "run.jsonl"
    assert len(run(max_trials=3, store=path, optimizer=Plain())) == 3
    before = path.read_bytes()
    with pytest.raises(ResumeNotSupportedError, match="has no restore"):
        run(max_trials=6, store=path, optimizer=Plain())
    assert path.read_bytes() == before


def test_a_space_that_reprs_with_an_address_still_resumes(tmp_path):
    class Opaque:
        def __repr__(self):
            return f"<Opaque at {hex(id(self))}>"

    def sampler(space, seed):
        return {"x": float(seed % 7)}

    def space():
        return {"x": (0.0, 1.0), "note": Opaque()}

    path = tmp_path / "run.jsonl"
    run(max_trials=2, store=path, space=space(), sampler=sampler, duplicates=True)
    assert len(run(max_trials=3, store=path, space=space(), sampler=sampler, duplicates=True)) == 3


def test_a_store_being_written_is_refused(tmp_path):
    from byop.history import StoreLockedError

    path = tmp_path / "run.jsonl"
    run(max_trials=2, store=path)
    writer, _ = RunStore.reopen(path)
    try:
        with pytest.raises(StoreLockedError, match="another process"):
            run(max_trials=4, store=path)
    finally:
        writer.close()
    assert len(run(max_trials=4, store=path)) == 4


def test_a_bad_backend_touches_no_file(tmp_path):
    path = tmp_path / "run.jsonl"
    with pytest.raises(UnknownBackendError, match="No back end named 'nope'"):
        run(max_trials=3, store=path, backend="nope")
    assert not path.exists()


def test_trials_in_flight_in_the_store_run_again_first(tmp_path):
    path = tmp_path / "run.jsonl"
    rs = RandomSearch(space=SPACE, seed=0)
    header = RunHeader(optimizer="random_search", seed=0, space=typed_plain(SPACE))
    with RunStore.create(path, header) as store:
        trials = [rs.ask() for _ in range(5)]
        for trial in trials:
            store.started(trial)
        for trial in trials[:3]:
            store.reported(objectives.quadratic(trial))
    history = run(max_trials=8, store=path)
    assert len(history) == 8
    names = history.names()
    assert names[:3] == ["rs-0", "rs-1", "rs-2"]
    assert set(names[3:5]) == {"rs-3", "rs-4"}  # the re-runs, before anything new
    assert history["rs-3"].trial.config == trials[3].config
    assert sorted(names[5:]) == ["rs-5", "rs-6", "rs-7"]
    stored = read_store(path)
    assert stored.in_flight == [] and len(stored.reports) == 8


def test_a_timeout_ends_the_run_and_resuming_reruns_what_it_cut_off(tmp_path):
    path = tmp_path / "run.jsonl"
    started = time.monotonic()
    history = run(objective=objectives.slow, timeout=0.6, store=path, backend="processes")
    assert time.monotonic() - started < 0.6 + 5.0  # the timeout, plus a bounded grace
    stored = read_store(path)
    assert stored.sessions[0].exit_status == "timeout"
    assert stored.reports == history.reports and len(history) >= 1
    cut = stored.in_flight
    assert cut, "two workers were busy when the time ran out"
    assert not ({t.name for t in cut} & set(history.names()))
    # The time budget counts every session: with it spent, a resume runs nothing more...
    same = run(objective=objectives.slow, timeout=0.6, store=path, backend="processes")
    assert same.names() == history.names()
    # ...and with more time, the trials cut off run first.
    more = run(objective=objectives.slow, timeout=30, max_trials=len(history) + 4, store=path)
    assert {t.name for t in cut} <= set(more.names()[len(history) :])
    assert len(more) == len(history) + 4


def test_a_small_space_ends_when_random_search_is_exhausted(tmp_path):
    space = searchable("s", space={"c": ["a", "b", "c"]}).space()

    def objective(trial):
        return trial.success(cost=ord(trial.config["c"]))

    history = optimize(
        objective, space, max_trials=10, seed=0, backend="sequential", progress="off"
    )
    assert sorted(r.trial.config["c"] for r in history) == ["a", "b", "c"]


@pytest.mark.parametrize("optimizer", ["random_search", "optuna", "smac"])
def test_an_empty_space_runs_its_one_configuration(optimizer):
    def objective(trial):
        return trial.success(cost=float(len(trial.config)))

    t0 = time.monotonic()
    history = optimize(
        objective,
        {},
        optimizer=optimizer,
        max_trials=3,
        timeout=30,
        seed=0,
        backend="sequential",
        progress="off",
    )
    assert time.monotonic() - t0 < 30
    assert [dict(r.trial.config) for r in history][:1] == [{}]
    # Once (then the optimizer is exhausted), or as often as asked (Optuna repeats).
    assert len(history) == (3 if optimizer == "optuna" else 1)


def test_metrics_rank_the_trials(tmp_path):
    history = run(
        max_trials=10, metrics=[Metric("x", minimize=False), "cost"], store=tmp_path / "r.jsonl"
    )
    assert history.best("x")["x"] == max(r["x"] for r in history)
    assert history.pareto_front()
    assert read_store(tmp_path / "r.jsonl").header.metrics[0] == Metric("x", minimize=False)


def logged(caplog):
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("byop"))


def test_progress_lines_and_the_summary_are_messages_of_the_byop_logger(tmp_path, caplog, capsys):
    path = tmp_path / "run.jsonl"
    run(max_trials=10, progress="lines", store=path)
    assert capsys.readouterr().out == ""
    text = logged(caplog)
    assert text.startswith("byop random_search: started, run limits 10 trials")
    assert "new best cost" in text and "byop random_search: 10 trials in" in text
    assert f"store  {path}" in text
    assert {r.name for r in caplog.records if r.name.startswith("byop")} == {"byop.progress"}


def test_a_trial_running_on_in_a_thread_does_not_keep_python_running(tmp_path):
    script = tmp_path / "busy.py"
    script.write_text(
        "from byop.run import optimize\n"
        "def busy(trial):\n"
        "    while True:\n"
        "        pass\n"
        "optimize(busy, {'x': (0.0, 1.0)}, timeout=1, backend='threads', progress='lines')\n"
        "print('returned')\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "returned\n"
    assert "still running  1 of them in threads of this process, which cannot be stopped" in (
        proc.stderr
    )


def test_an_empty_store_file_gets_a_new_run_and_the_summary_says_so(tmp_path, caplog):
    path = tmp_path / "run.jsonl"
    path.touch()
    assert len(run(max_trials=3, progress="lines", store=path)) == 3
    assert f"{path} (the file was empty: a new run was created in it)" in logged(caplog)
    assert len(read_store(path).reports) == 3
    caplog.clear()
    run(max_trials=4, progress="lines", store=path)  # resumed: no longer empty
    text = logged(caplog)
    assert "was empty" not in text and f"store  {path}" in text


@pytest.mark.parametrize("first", ["name", "object"])
def test_a_run_resumes_with_its_optimizer_by_name_or_as_an_object(tmp_path, first):
    path = tmp_path / "run.jsonl"

    def given(which):
        return "random_search" if which == "name" else RandomSearch(space=SPACE, seed=0)

    run(max_trials=3, store=path, optimizer=given(first))
    second = "object" if first == "name" else "name"
    history = run(max_trials=5, store=path, optimizer=given(second))
    assert len(history) == 5
    assert len({r.trial.name for r in history}) == 5


def test_an_interrupt_ends_the_session_and_keeps_what_was_done(tmp_path):
    path = tmp_path / "run.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(
            objective=objectives.interrupted_at_third,
            max_trials=6,
            backend="sequential",
            n_workers=1,
            store=path,
        )
    stored = read_store(path)
    assert [r.trial.name for r in stored.reports] == ["rs-0", "rs-1"]
    assert stored.sessions[0].exit_status == "interrupted"
    assert [t.name for t in stored.in_flight] == ["rs-2"]
