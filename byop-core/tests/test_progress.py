from __future__ import annotations

import io
import logging
import re
import threading

import pytest

from byop.history import History, Progress, format_duration, summary
from byop.optimization import Metric, Trial


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the bar is as wide as the terminal


def reports(costs):
    out = []
    for i, cost in enumerate(costs):
        trial = Trial(name=f"t{i}", config={"x": float(i), "kind": "k"})
        if cost == "fail":
            with trial.begin():
                raise ValueError("bad")
            out.append(trial.fail())
        elif cost == "crash":
            out.append(trial.crashed(MemoryError("oom")))
        else:
            out.append(trial.success(cost=cost))
    return out


class Terminal(io.StringIO):
    """A stream that says it is a terminal, and signals each write."""

    def __init__(self, encoding="utf-8"):
        super().__init__()
        self._encoding = encoding
        self.writes = 0
        self.wrote = threading.Condition()

    @property
    def encoding(self):
        return self._encoding

    def isatty(self):
        return True

    def write(self, text):
        with self.wrote:
            self.writes += 1
            self.wrote.notify_all()
        return super().write(text)


def test_lines_show_new_bests_and_tenths_of_the_budget_then_a_summary():
    out = io.StringIO()
    progress = Progress(total=20, mode="auto", stream=out, title="run")  # not a tty: lines
    assert progress.mode == "lines"
    with progress:
        for report in reports([5.0, 3.0, "fail", 4.0, "crash", *[9.0] * 15]):
            progress.update(report)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == "run: started, run limits 20 trials"
    news = [line for line in lines if "new best" in line]
    assert [n.split("new best cost ")[1] for n in news] == ["5 from t0", "3 from t1"]
    milestones = [line for line in lines if "trials/s" in line or "s/trial" in line]
    assert [m.split("[")[1].split()[0] for m in milestones] == [f"{n}/20" for n in range(4, 21, 2)]
    assert milestones[-1].endswith("best cost 3 (t1), fail 1, crashed 1")
    assert "run: 20 trials in" in text
    assert re.search(r"\n  fail +1   ValueError x1\n", text)
    assert re.search(r"\n  crashed +1   MemoryError x1\n", text)
    assert "best  t1  cost = 3" in text


def test_off_writes_nothing():
    out = io.StringIO()
    for mode in ("off", False, None):
        progress = Progress(total=3, mode=mode, stream=out)
        with progress:
            for report in reports([1.0, 2.0]):
                progress.update(report)
        assert progress.best == 1.0
    assert out.getvalue() == ""


def test_bad_mode_says_what_is_allowed():
    with pytest.raises(ValueError, match="progress must be one of 'auto', 'bar', 'lines'"):
        Progress(mode="fancy")


def test_bar_on_a_terminal_is_tqdms_with_rate_eta_best_and_failures():
    term = Terminal()
    progress = Progress(total=4, stream=term, title="run")
    assert progress.mode == "bar"
    progress.start()
    for report in reports([2.0, "fail", 1.0, "crash"]):
        progress.update(report)
    progress.close()
    text = term.getvalue()
    bar, _, rest = text.rpartition("\r")[2].partition("\n")
    assert re.match(r"run: 100%\|█+\| 4/4 \[0:0", bar), bar
    assert re.search(r"4/4 \[0:0\d\.\d<0:00\.0\] [\d.]+ trials/s, ", bar), bar
    assert bar.endswith("best cost 1 (t2), fail 1, crashed 1")
    assert "run: 4 trials in" in rest
    assert "\n" not in text.split("run: 4 trials")[0].rstrip("\n")  # one line until the end


def test_the_eta_is_the_sooner_of_the_trial_and_the_time_budget():
    import time

    def after_ten_seconds(**kwargs):
        progress = Progress(total=100, mode="off", **kwargs)
        progress.start()
        for report in reports([1.0] * 10):
            progress.update(report)
        progress._started = time.monotonic() - 10  # ten trials in ten seconds
        return progress

    by_trials = after_ten_seconds()
    assert by_trials.rate == pytest.approx(1.0, rel=0.05)
    assert by_trials.eta == pytest.approx(90, rel=0.05)  # 90 trials left, at one a second
    assert by_trials.clock_text().startswith("0:10.0<0:01:")
    assert after_ten_seconds(timeout=50).eta == pytest.approx(40, rel=0.05)  # time runs out first
    assert Progress(mode="off").eta is None


def test_bar_redraws_while_no_report_arrives():
    term = Terminal()
    progress = Progress(timeout=60, stream=term, mode="bar", refresh=0.01)
    progress.start()
    with term.wrote:
        assert term.wrote.wait_for(lambda: term.writes >= 4, timeout=5)
    progress.close(show_summary=False)
    last = term.getvalue().rstrip("\n").rpartition("\r")[2]
    assert "0/60" not in last  # no trial budget: a count, not a fraction
    assert re.search(r"\| 0 \[0:00\.\d<0:[\d:.]+\] - trials/s, no best yet", last), last


def test_bar_without_a_budget_has_no_bar():
    term = Terminal()
    with Progress(stream=term, mode="bar") as progress:
        progress.update(reports([1.0])[0])
    assert "%|" not in term.getvalue() and "byop: 1 [" in term.getvalue()


def test_bar_falls_back_to_ascii():
    term = Terminal(encoding="ascii")
    progress = Progress(total=2, stream=term, mode="bar")
    with progress:
        progress.update(reports([1.0])[0])
    half = re.search(r"50%\|(#+)\d?( +)\|", term.getvalue())  # a digit: a part of a cell
    assert half and abs(len(half[1]) - len(half[2])) <= 2 and "█" not in term.getvalue()


def test_in_a_notebook_auto_is_the_bar(monkeypatch):
    import sys
    import types

    from byop.history._progress import bar_class, in_notebook

    class ZMQInteractiveShell:
        pass

    fake = types.ModuleType("IPython")
    fake.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert in_notebook()
    assert Progress(total=3).mode == "bar"  # standard error is no terminal here
    import tqdm

    cls = bar_class(notebook=True)
    try:
        import ipywidgets  # noqa: F401
    except ImportError:  # no widgets: tqdm's text bar, which a notebook shows too
        assert cls.__mro__[1] is tqdm.tqdm
    else:
        from tqdm.notebook import tqdm as widget

        assert cls.__mro__[1] is widget


def test_without_a_stream_lines_are_log_messages(caplog):
    with caplog.at_level(logging.INFO, logger="byop"), Progress(total=2, mode="lines") as progress:
        for report in reports([2.0, 1.0]):
            progress.update(report)
    messages = [r.getMessage() for r in caplog.records if r.name == "byop.progress"]
    assert messages[0] == "byop: started, run limits 2 trials"
    assert messages[-1].startswith("byop: 2 trials in")


def test_a_resumed_run_counts_what_was_done_before():
    out = io.StringIO()
    earlier = reports([4.0, 2.0])
    later = [Trial(name="t9", config={}).success(cost=3.0)]
    progress = Progress(total=3, mode="lines", stream=out, history=earlier)
    with progress:
        progress.update(later[0])
    text = out.getvalue()
    assert "2 done before" in text and "3 trials, 2 from before" in text
    assert "new best" not in text and "best  t1  cost = 2" in text


def test_maximised_metric():
    out = io.StringIO()
    trials = [Trial(name=f"a{i}", config={}).success(acc=v) for i, v in enumerate([0.5, 0.9])]
    with Progress(mode="lines", stream=out, metric=Metric("acc", minimize=False)) as progress:
        for report in trials:
            progress.update(report)
    assert progress.best == 0.9 and "new best acc 0.9 from a1" in out.getvalue()


def test_summary_without_a_best():
    text = summary(History(reports(["fail", "crash"])))
    assert "best  none: no successful trial reported 'cost'" in text
    assert re.search(r"total +2", text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0:00.0"),
        (59.94, "0:59.9"),
        (59.96, "0:01:00"),
        (61, "0:01:01"),
        (3600 * 25, "25:00:00"),
        (-1, "-"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_summary_names_exceptions_short():
    from byop.optimization import ForeignException

    trial = Trial(name="t", config={})
    report = trial.crashed(ForeignException("mylib.errors.BoomError", "boom"))
    assert re.search(r"crashed +1   BoomError x1\n", summary(History([report])))


def test_a_fork_never_catches_the_bar_mid_write():
    import os

    term = Terminal()
    progress = Progress(total=1, stream=term, mode="bar", refresh=0.001)
    progress.start()
    with term.wrote:
        assert term.wrote.wait_for(lambda: term.writes >= 3, timeout=5)
    for _ in range(20):
        pid = os.fork()
        if pid == 0:  # the child: the bar's lock is free, and the bar is closed
            ok = progress._lock.acquire(timeout=1) and progress._closed
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    progress.close(show_summary=False)
