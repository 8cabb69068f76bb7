"""Rankings under resampling: Kendall's tau, rank distributions and ties, batched over resamples.

The leaderboard statistics (:mod:`harness.compare.leaderboard_stats`) resample images
(:func:`harness.compare.bootstrap.resample_weights`) and get ``[B, ...]``
scores; these functions read them:

* :func:`kendall_tau_batch`: Kendall's tau-b between two ``[B, n]`` score
  sets, row by row (equal to :func:`scipy.stats.kendalltau`; NaN cells left out);
* :func:`rank_batch`: rank of each item per resample (1 = highest; NaN last);
* :func:`rank_summary`: median rank, its 95 % interval and the probability of
  rank 1, per item;
* :func:`tie_groups`: items in point order, joined while the interval of the
  paired difference of neighbours includes 0: ranks the data cannot break.

Examples
--------
>>> x = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
>>> kendall_tau_batch(x, np.array([[1.0, 2.0, 3.0]] * 2)).tolist()
[1.0, -1.0]
>>> rank_batch(np.array([[0.1, 0.9, 0.5]])).tolist()
[[3, 1, 2]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.compare.bootstrap import LEVEL, percentile_interval

_CHUNK_ELEMENTS = 4_000_000  # sign matrices per chunk of resamples: B_chunk * n * n


def kendall_tau_batch(x: Any, y: Any) -> np.ndarray:
    """Kendall's tau-b of each row pair of ``x`` and ``y`` (``[B, n]``) -> ``[B]``.

    A cell that is NaN in either row is left out of that row; a row with
    fewer than 2 cells, or constant on the cells left, gives NaN (as SciPy).
    """
    xa, ya = np.atleast_2d(np.asarray(x, np.float64)), np.atleast_2d(np.asarray(y, np.float64))
    if xa.shape != ya.shape:
        raise ValueError(f"x {xa.shape} and y {ya.shape} differ in shape")
    b, n = xa.shape
    out = np.full(b, np.nan)
    step = max(1, _CHUNK_ELEMENTS // max(1, n * n))
    for start in range(0, b, step):
        xs, ys = xa[start : start + step], ya[start : start + step]
        ok = np.isfinite(xs) & np.isfinite(ys)
        pair_ok = ok[:, :, None] & ok[:, None, :]
        dx = np.where(pair_ok, np.sign(xs[:, :, None] - xs[:, None, :]), 0.0)
        dy = np.where(pair_ok, np.sign(ys[:, :, None] - ys[:, None, :]), 0.0)
        s = np.einsum("bij,bij->b", dx, dy)
        tx, ty = np.abs(dx).sum(axis=(1, 2)), np.abs(dy).sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + step] = np.where((tx > 0) & (ty > 0), s / np.sqrt(tx * ty), np.nan)
    return out


def rank_batch(scores: Any) -> np.ndarray:
    """Rank of each item (column) in each resample (row) of ``[B, E]`` scores: 1 = highest, NaN ranks last.

    Exact ties are broken by column order (ordinal ranks).
    """
    s = np.atleast_2d(np.asarray(scores, np.float64))
    key = np.where(np.isfinite(s), -s, np.inf)
    order = np.argsort(key, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, s.shape[1] + 1)[None, :].repeat(s.shape[0], 0), axis=1)
    return ranks


def rank_summary(ranks: Any, level: float = LEVEL) -> list[dict[str, float]]:
    """Per item (column of ``[B, E]`` ranks): median rank, the ``level`` interval and P(rank 1)."""
    r = np.atleast_2d(np.asarray(ranks, np.float64))
    lo, hi = percentile_interval(r, level)
    if r.shape[0] == 0:  # no resamples: every summary is NaN, not a warning about empty slices
        med = first = np.full(r.shape[1], np.nan)
    else:
        med = np.median(r, axis=0)
        first = (r == 1).mean(axis=0)
    return [
        {
            "rank_median": float(med[e]),
            "rank_low": float(np.floor(lo[e])),
            "rank_high": float(np.ceil(hi[e])),
            "p_first": float(first[e]),
        }
        for e in range(r.shape[1])
    ]


def tie_groups(estimates: Sequence[float], samples: Any, level: float = LEVEL) -> list[int]:
    """Group number of each item: neighbours in point order tie when their paired difference's interval holds 0.

    ``estimates`` ``[E]`` are the point scores (higher is better),
    ``samples`` ``[B, E]`` the same scores per resample.  Returns, per item
    in input order, the 0-based group in point order; items of one group are
    ranks the data cannot break.

    Examples
    --------
    >>> s = np.array([[3.0, 2.9, 1.0], [2.8, 3.1, 1.1], [3.2, 3.0, 0.9]])
    >>> tie_groups([3.0, 3.0, 1.0], s)
    [0, 0, 1]
    """
    est = np.asarray(estimates, np.float64)
    smp = np.atleast_2d(np.asarray(samples, np.float64))
    order = np.argsort(np.where(np.isfinite(est), -est, np.inf), kind="stable")
    group = np.zeros(len(est), dtype=np.int64)
    g = 0
    for prev, cur in zip(order[:-1], order[1:]):
        lo, hi = percentile_interval(smp[:, prev] - smp[:, cur], level)
        if not (np.isfinite(lo) and lo <= 0.0 <= hi):
            g += 1
        group[cur] = g
    if len(order):
        group[order[0]] = 0
    return [int(v) for v in group]
