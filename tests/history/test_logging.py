"""byop's messages go through `logging` (the ``byop`` logger): shown, silenced, redirected."""

from __future__ import annotations

import subprocess
import sys

import pytest

RUN = (
    "from byop.run import optimize\n"
    "optimize(lambda t: t.success(cost=t.config['x'] ** 2), {'x': (-1.0, 1.0)}, seed=0,\n"
    "         backend='threads', max_trials=5, progress='lines',\n"
    "         callbacks=[lambda report: 1 / 0])\n"
)


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )


def test_by_default_the_messages_go_to_standard_error():
    proc = python(RUN)
    assert proc.stdout == ""
    err = proc.stderr
    assert err.startswith("byop random_search: started, run limits 5 trials\n")
    assert "callback <lambda> raised ZeroDivisionError on trial rs-0" in err
    assert "byop random_search: 5 trials in" in err and "x = " in err


def test_a_level_on_the_byop_logger_silences_them():
    proc = python("import logging\nlogging.getLogger('byop').setLevel(logging.ERROR)\n" + RUN)
    assert proc.stderr == ""


@pytest.mark.parametrize(
    "setup",
    [
        "logging.basicConfig(format='LOG %(name)s %(message)s')",
        "logging.getLogger('byop').addHandler(h := logging.StreamHandler())\n"
        "h.setFormatter(logging.Formatter('LOG %(name)s %(message)s'))",
    ],
    ids=["root", "byop"],
)
def test_a_handler_of_your_own_takes_them_once(setup):
    proc = python(f"import logging\n{setup}\n" + RUN)
    err = proc.stderr
    assert err.startswith("LOG byop.progress byop random_search: started"), err
    assert err.count("started, run limits 5 trials") == 1  # not also by byop's default handler
    assert "LOG byop.run callback <lambda> raised ZeroDivisionError" in err
