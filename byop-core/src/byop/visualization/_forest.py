"""A small random forest of regression trees, in numpy, that keeps each leaf's box.

The forest is the surrogate model of `hyperparameter_importance`: what the fANOVA needs from
each tree is the partition of the input space into boxes (one per leaf) and a value per box.

Each tree is grown on a bootstrap sample, level by level: the inputs are binned once (at most
``max_bins`` quantile bins per input), and at each level one ``bincount`` per input sums the
counts and targets of every node and bin at once, so that growing a tree costs a few numpy
calls per level whatever the number of nodes. A node is split where the sum of squared errors
drops most; it becomes a leaf when no split helps, at ``max_depth``, or when a split would
leave fewer than ``min_samples_leaf`` samples on a side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import frozen

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


@frozen
class Leaves:
    """The leaves of one tree: a box of the input domain and a value each.

    Attributes:
        lower: ``(leaves, inputs)`` lower corners of the boxes.
        upper: ``(leaves, inputs)`` upper corners.
        value: ``(leaves,)`` the mean target of the training samples in each leaf.
    """

    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    value: NDArray[np.float64]


def _bins(
    column: NDArray[np.float64], max_bins: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Each value's bin, and the thresholds between consecutive bins (midpoints)."""
    import numpy as np

    distinct = np.unique(column)
    if len(distinct) > max_bins:
        cuts = np.quantile(column, np.linspace(0, 1, max_bins + 1)[1:-1], method="lower")
        cuts = np.unique(cuts)
        upper_of = distinct[np.searchsorted(distinct, cuts, side="right")]
        thresholds = (cuts + upper_of) / 2
    else:
        thresholds = (distinct[:-1] + distinct[1:]) / 2
    return np.searchsorted(thresholds, column, side="right"), thresholds


def grow_forest(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    domain: NDArray[np.float64],
    *,
    n_trees: int = 32,
    max_depth: int = 12,
    min_samples_leaf: int = 2,
    max_bins: int = 64,
    seed: int = 0,
) -> list[Leaves]:
    """Grow ``n_trees`` regression trees on bootstrap samples of ``(x, y)``.

    Args:
        x: ``(samples, inputs)`` inputs, each within its ``domain`` row.
        y: ``(samples,)`` targets.
        domain: ``(inputs, 2)`` lower and upper bound of each input: the root's box.
        n_trees: How many trees.
        max_depth: The deepest a tree grows.
        min_samples_leaf: The fewest bootstrap samples a leaf may hold.
        max_bins: The most thresholds an input is split at (quantiles beyond that).
        seed: The seed of the bootstrap samples.

    Returns:
        Each tree's leaves.
    """
    import numpy as np

    n, d = x.shape
    rng = np.random.default_rng(seed)
    binned = [_bins(x[:, j], max_bins) for j in range(d)]
    codes = np.stack([b for b, _ in binned], axis=1) if d else np.zeros((n, 0), dtype=np.intp)
    thresholds = [t for _, t in binned]
    return [
        _grow(
            codes[sample],
            y[sample],
            thresholds=thresholds,
            domain=domain,
            max_depth=max_depth,
            min_leaf=min_samples_leaf,
        )
        for sample in (rng.integers(0, n, size=n) for _ in range(n_trees))
    ]


def _grow(
    codes: NDArray[np.intp],
    y: NDArray[np.float64],
    *,
    thresholds: list[NDArray[np.float64]],
    domain: NDArray[np.float64],
    max_depth: int,
    min_leaf: int,
) -> Leaves:
    import numpy as np

    n_bins = [len(t) + 1 for t in thresholds]
    offsets = np.cumsum([0, *[len(t) for t in thresholds]])
    flat = np.concatenate([*thresholds, np.zeros(1)])
    node = np.zeros(len(y), dtype=np.intp)  # each sample's node among the current level's
    lower = domain[:, 0][None, :].copy()  # the current level's boxes
    upper = domain[:, 1][None, :].copy()
    done: list[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]] = []
    for depth in range(max_depth + 1):
        m = len(lower)
        counts = np.bincount(node, minlength=m).astype(np.float64)
        sums = np.bincount(node, weights=y, minlength=m).astype(np.float64)
        if depth < max_depth:
            best_input, best_cut = _best_splits(
                node, codes, y=y, counts=counts, sums=sums, n_bins=n_bins, min_leaf=min_leaf
            )
        else:
            best_input, best_cut = np.full(m, -1), np.zeros(m, dtype=np.intp)
        split = best_input >= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            means = np.where(counts > 0, sums / counts, 0.0)
        done.append((lower[~split], upper[~split], means[~split]))
        if not split.any():
            break
        # Node p, the i-th node to split, has children 2i (left) and 2i + 1 (right).
        parents = np.flatnonzero(split)
        inputs = best_input[parents]
        cuts = flat[offsets[inputs] + best_cut[parents]]
        rank = np.full(m, -1)
        rank[parents] = np.arange(len(parents))
        lower = np.repeat(lower[parents], 2, axis=0)
        upper = np.repeat(upper[parents], 2, axis=0)
        upper[2 * np.arange(len(parents)), inputs] = cuts
        lower[2 * np.arange(len(parents)) + 1, inputs] = cuts
        keep = split[node]
        codes, y, node = codes[keep], y[keep], node[keep]
        goes_right = codes[np.arange(len(node)), best_input[node]] > best_cut[node]
        node = 2 * rank[node] + goes_right
    return Leaves(
        lower=np.concatenate([d[0] for d in done]),
        upper=np.concatenate([d[1] for d in done]),
        value=np.concatenate([d[2] for d in done]),
    )


def _best_splits(
    node: NDArray[np.intp],
    codes: NDArray[np.intp],
    *,
    y: NDArray[np.float64],
    counts: NDArray[np.float64],
    sums: NDArray[np.float64],
    n_bins: list[int],
    min_leaf: int,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Each node's best input and bin to split after (input -1: no split helps)."""
    import numpy as np

    m = len(counts)
    best_gain = np.zeros(m)
    best_input = np.full(m, -1)
    best_cut = np.zeros(m, dtype=np.intp)
    for j, k in enumerate(n_bins):
        if k < 2:
            continue
        key = node * k + codes[:, j]
        left_c = np.bincount(key, minlength=m * k).reshape(m, k).cumsum(axis=1)[:, :-1]
        left_s = np.bincount(key, weights=y, minlength=m * k).reshape(m, k).cumsum(axis=1)
        left_s = left_s[:, :-1]
        right_c = counts[:, None] - left_c
        right_s = sums[:, None] - left_s
        with np.errstate(divide="ignore", invalid="ignore"):
            # How much the sum of squared errors drops when splitting after each bin.
            gain = left_s**2 / left_c + right_s**2 / right_c - (sums**2 / counts)[:, None]
        gain = np.where((left_c >= min_leaf) & (right_c >= min_leaf), gain, -np.inf)
        cut = gain.argmax(axis=1)
        top = gain[np.arange(m), cut]
        better = top > best_gain * (1 + 1e-9) + 1e-9
        best_gain = np.where(better, top, best_gain)
        best_input = np.where(better, j, best_input)
        best_cut = np.where(better, cut, best_cut)
    return best_input, best_cut
