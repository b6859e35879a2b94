"""The guide's parallel blocks, which tests/guide runs as scripts and with ``python -c``."""

from __future__ import annotations

from support.docblocks import Block, find

PAGE = "guides/optimization.md"
SECTION = "Running the Optimizer in a parallel fashion"
PARALLEL = {
    # name: (tab label, which of the blocks with that label, number of workers)
    "trial-task": ("Creating a `Trial.Task`", 0, 1),
    "trial-task-typed": ("Typed", 0, 1),
    "scaling-up": ("Scaling Up", 0, 4),
    "scaling-up-typed": ("Typed", 5, 4),
}


def parallel_block(name: str) -> Block:
    label, nth, _ = PARALLEL[name]
    return find(PAGE, SECTION, label, nth=nth)
