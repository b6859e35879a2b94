"""Several metrics in the progress display, the summary, best() and the Pareto plot."""

from __future__ import annotations

import io
import random

import pytest

from byop.cli import main
from byop.history import (
    History,
    ParetoFront,
    Progress,
    RunHeader,
    RunStore,
    SeveralMetricsError,
    pareto_front,
    plot_pareto,
    summary,
)
from byop.optimization import Metric, Trial

METRICS = (Metric("loss"), Metric("accuracy", minimize=False))


def report(name, **results):
    return Trial(name=name, config={"x": 1}).success(**results)


def random_reports(n, seed=0):
    rng = random.Random(seed)
    return [
        report(f"t{i}", loss=round(rng.random(), 2), accuracy=round(rng.random(), 2))
        for i in range(n)
    ]


def test_best_with_several_metrics_says_to_use_the_front_or_name_one():
    history = History(random_reports(5), metrics=METRICS)
    with pytest.raises(SeveralMetricsError, match=r"pareto_front\(\).*best\(metric='loss'\)"):
        history.best()
    assert history.best("accuracy")["accuracy"] == max(r["accuracy"] for r in history)


@pytest.mark.parametrize("seed", range(5))
def test_the_incremental_front_is_the_front(seed):
    reports = random_reports(60, seed)
    front = ParetoFront(METRICS)
    for r in reports:
        front.add(r)
    names = {r.trial.name for r in front}
    assert names == {r.trial.name for r in pareto_front(reports, METRICS)}


def test_the_summary_lists_the_front():
    reports = [report("a", loss=1.0, accuracy=0.9), report("b", loss=2.0, accuracy=0.95)]
    reports.append(report("c", loss=2.0, accuracy=0.8))
    text = summary(History(reports, metrics=METRICS))
    assert "pareto front  2 trials on loss (min), accuracy (max)" in text
    assert "    a  loss = 1  accuracy = 0.9" in text and "    b  loss = 2" in text
    assert "  c  " not in text and "best" not in text


def test_a_long_front_is_cut_with_a_count():
    reports = [report(f"t{i}", loss=float(i), accuracy=float(i)) for i in range(15)]
    text = summary(History(reports, metrics=METRICS))
    assert "pareto front  15 trials" in text and "... and 5 more" in text


def test_the_progress_lines_show_the_front_and_who_joins_it():
    out = io.StringIO()
    with Progress(total=3, mode="lines", stream=out, metrics=METRICS) as progress:
        progress.update(report("a", loss=1.0, accuracy=0.9))
        progress.update(report("b", loss=2.0, accuracy=0.8))  # dominated by a
        progress.update(report("c", loss=0.5, accuracy=0.5))
    text = out.getvalue()
    assert "pareto front 1 trial (a joined: loss 1, accuracy 0.9)" in text
    assert "b joined" not in text
    assert "pareto front 2 trials (c joined" in text
    assert "pareto front  2 trials on loss (min), accuracy (max)" in text
    assert progress.best_text().startswith("pareto front 2 trials")


def test_plot_pareto_writes_a_png_and_refuses_one_metric(tmp_path):
    pytest.importorskip("matplotlib")
    history = History(random_reports(40), metrics=METRICS)
    figure = plot_pareto(history, tmp_path / "front.png")
    assert (tmp_path / "front.png").read_bytes()[:4] == b"\x89PNG"
    ax = figure.axes[0]
    assert ax.get_xlabel() == "loss (lower is better)"
    assert ax.get_ylabel() == "accuracy (higher is better)"
    assert f"{len(history.pareto_front())} on the front" in figure._suptitle.get_text()
    with pytest.raises(ValueError, match="two metrics"):
        plot_pareto(History(random_reports(3), metrics=["loss"]))


def test_runs_plot_pareto(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    store = tmp_path / "run.jsonl"
    with RunStore.create(store, RunHeader(optimizer="random_search", metrics=METRICS)) as run:
        for r in random_reports(20):
            run.started(r.trial)
            run.reported(r)
    output = tmp_path / "plots" / "front.png"
    assert main(["runs", "plot", str(store), "--pareto", "-o", str(output)]) == 0
    assert output.read_bytes()[:4] == b"\x89PNG"
    assert (
        main(["runs", "plot", str(store), "--pareto", "--metrics", "loss,nope", "-o", str(output)])
        != 0
    )
    assert "'nope'" in capsys.readouterr().err
