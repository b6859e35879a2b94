"""The optimization guide's "RandomSearch Specific Sampler" block, run as written."""

from __future__ import annotations

import re

import pytest
from support.docblocks import find

from byop.optimization import RandomSearch

PAGE = "guides/optimization.md"

pytest.importorskip(
    "byop.configspace", reason="needs byop-configspace (pip install byop[configspace])"
)


def test_random_search_with_the_configspace_sampler(run_block):
    block = find(PAGE, "Random Search", "RandomSearch Specific Sampler")
    ns, out = run_block(block)
    from byop.configspace import ConfigSpaceSampler

    rs = ns["random_search"]
    assert isinstance(rs, RandomSearch)
    assert isinstance(rs.sampler, ConfigSpaceSampler)
    line = out.strip()
    assert re.fullmatch(r"Trial\(name='rs-0', config=\{'x': -?\d+\.\d+(e-?\d+)?\}\)", line), line
    x = ns["trial"].config["x"]
    assert type(x) is float and -10.0 <= x <= 10.0
    # As written, it is deterministic: the same block gives the same trial.
    again, _ = run_block(block)
    assert again["trial"].config == ns["trial"].config
