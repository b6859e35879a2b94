from __future__ import annotations

import io
import re
import threading

import pytest

from byop.history import History, Progress, format_duration, summary
from byop.optimization import Metric, Trial


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
    milestones = [line for line in lines if "failed" in line and "crashed" in line]
    assert [m.split("[")[1].split()[0] for m in milestones] == [f"{n}/20" for n in range(4, 21, 2)]
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


def test_bar_on_a_terminal_redraws_one_line():
    term = Terminal()
    progress = Progress(total=4, stream=term, title="run")
    assert progress.mode == "bar"
    progress.start()
    for report in reports([2.0, "fail", 1.0, "crash"]):
        progress.update(report)
    progress.close()
    text = term.getvalue()
    bar, _, rest = text.rpartition("\r")[2].partition("\n")
    assert bar.startswith("run [██████████████████████████████] 4/4")
    assert "best 1 (t2)  fail 1  crash 1" in bar
    assert "run: 4 trials in" in rest
    assert "\n" not in text.split("run: 4 trials")[0].rstrip("\n")  # one line until the end


def test_bar_redraws_while_no_report_arrives():
    term = Terminal()
    progress = Progress(timeout=60, stream=term, mode="bar", refresh=0.01)
    progress.start()
    with term.wrote:
        assert term.wrote.wait_for(lambda: term.writes >= 4, timeout=5)
    progress.close(show_summary=False)
    assert "0/60" not in term.getvalue()  # no trial budget: a count, not a fraction
    assert "0 " in term.getvalue().split("\r")[1] and "/1:00:00" not in term.getvalue()


def test_bar_falls_back_to_ascii():
    term = Terminal(encoding="ascii")
    progress = Progress(total=2, stream=term, mode="bar")
    with progress:
        progress.update(reports([1.0])[0])
    assert "[###############---------------]" in term.getvalue()


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
    [(0.0, "0:00.0"), (59.94, "0:59.9"), (61, "0:01:01"), (3600 * 25, "25:00:00"), (-1, "-")],
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
