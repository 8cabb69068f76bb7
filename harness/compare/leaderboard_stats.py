"""The leaderboard's statistics: sign test, aggregate rank, metric agreement, and their bootstrap.

The leaderboard (:mod:`harness.report.leaderboard`) renders these; the
store scan (:mod:`harness.report.metric_results`) makes the
:class:`MetricResult` records they read.

**Aggregate rank** (median-standardised, as LATEC, Klein et al. 2024,
"Navigating the Maze of Explainable AI", does): within each model and
metric, scores of the explainers are centred on their median and divided by
their median absolute deviation, signed so that higher is better; an
explainer's aggregate is the mean of these over metrics and models.
Medians rather than means keep one outlying method or a metric with a long
tail from dominating, and the division removes the metrics' different
scales, so metrics with large ranges (logit AUCs) do not outvote bounded
ones (correlations).

**Per-image evidence against the control**: besides the means, each
result counts the images where the explainer beats the control, and where
it loses (in the metric's direction; ties count for neither), and gives the
one-sided exact sign test's p-value of "beats it on more images than
chance" (:func:`sign_test`).  With ``n`` images the smallest possible p is
``0.5 ** n`` (0.0625 at the suite's default 4), so a small run can flag a
metric that cannot tell an explainer from random, but cannot establish that
it can.

**Agreement matrix**: Kendall's tau between the rankings that two metrics
give to the explainer x model cells both scored (direction-corrected);
LATEC's point is that this is often low, so one ranking misleads.
"""

from __future__ import annotations

import json
import warnings
import zlib
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy.stats import binomtest, kendalltau

from harness.compare import ranking
from harness.compare.bootstrap import BootstrapOptions, percentile_interval, resample_weights, weighted_means

_PRIVATE = {"private": True}


@dataclass(frozen=True, eq=False)
class MetricResult:
    """One (model, explainer, metric) result against its random-attribution control.

    The public fields, in this order, are what ``leaderboard.csv`` and
    ``leaderboard.json`` hold (:meth:`public`); ``per_image``,
    ``control_scores`` and ``image_keys`` are the per-image scores and image
    keys the bootstrap resamples.
    """

    model: str
    explainer: str
    metric: str
    category: str
    higher_is_better: bool
    score: float
    random: float
    beats_random: bool
    images_won: int
    images_lost: int
    sign_p: float
    images: int
    params: dict
    label_space: str | None
    seconds: float | None
    control: str
    per_image: np.ndarray = field(metadata=_PRIVATE, repr=False)
    control_scores: np.ndarray = field(metadata=_PRIVATE, repr=False)
    image_keys: tuple = field(metadata=_PRIVATE, repr=False)

    def public(self) -> dict[str, Any]:
        """The result without its per-image arrays (what the CSV and JSON files hold)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get("private")}


def sign_test(scores: np.ndarray, control: np.ndarray, *, higher_is_better: bool) -> tuple[int, int, float]:
    """``(won, lost, p)``: images where ``scores`` beat / lose to ``control``, and the one-sided sign test.

    Ties and non-finite pairs count for neither side; ``p`` is the exact
    binomial probability of winning at least ``won`` of ``won + lost``
    fair coin flips (NaN when every image ties).
    """
    s, c = np.asarray(scores, float), np.asarray(control, float)
    if s.shape != c.shape:
        return 0, 0, float("nan")
    ok = np.isfinite(s) & np.isfinite(c)
    d = (s - c)[ok] * (1.0 if higher_is_better else -1.0)
    won, lost = int(np.sum(d > 0)), int(np.sum(d < 0))
    if won + lost == 0:
        return won, lost, float("nan")
    return won, lost, float(binomtest(won, won + lost, 0.5, alternative="greater").pvalue)


def nan_mean(a: np.ndarray) -> float:
    """The mean of the finite values; NaN when there is none."""
    return float(np.nanmean(a)) if a.size and np.any(np.isfinite(a)) else float("nan")


def _direction(rows: list[MetricResult]) -> dict[str, float]:
    return {r.metric: 1.0 if r.higher_is_better else -1.0 for r in rows}


def aggregate_scores(rows: list[MetricResult], scores: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Median-standardised aggregate per explainer for each row of ``scores`` ``[B, R]`` (R = ``rows``).

    Returns ``(explainers, [B, E] aggregates, [E] cells)``; the cells are
    those of the full data (``rows``' own scores).  Within each (model,
    metric) the explainers' scores are centred on their median and divided
    by their median absolute deviation (the mean absolute deviation where
    that is 0, else 1), signed so higher is better; a (model, metric) with
    fewer than 2 finite scores counts for nobody.
    """
    sign = _direction(rows)
    explainers = sorted({r.explainer for r in rows})
    col = {e: k for k, e in enumerate(explainers)}
    s = np.atleast_2d(np.asarray(scores, np.float64))
    total = np.zeros((s.shape[0], len(explainers)))
    count = np.zeros_like(total)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[(r.model, r.metric)].append(i)
    with warnings.catch_warnings():  # all-NaN groups in a resample give NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        for (_, metric), idx in groups.items():
            vals = s[:, idx]
            ok = np.isfinite(vals)
            enough = ok.sum(axis=1, keepdims=True) >= 2
            med = np.nanmedian(vals, axis=1, keepdims=True)
            dev = np.abs(vals - med)
            mad = np.nanmedian(dev, axis=1, keepdims=True)
            mad = np.where(mad == 0, np.nanmean(dev, axis=1, keepdims=True), mad)
            mad = np.where((mad == 0) | ~np.isfinite(mad), 1.0, mad)
            z = sign[metric] * (vals - med) / mad
            use = ok & enough
            cols = [col[rows[i].explainer] for i in idx]
            np.add.at(total.T, cols, np.where(use, z, 0.0).T)
            np.add.at(count.T, cols, use.T.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        agg = np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
    point = np.array([[r.score for r in rows]])
    if s.shape[0] == 1 and np.array_equal(s, point, equal_nan=True):
        cells = count[0]
    else:
        cells = aggregate_scores(rows, point)[2]
    return explainers, agg, cells


def aggregate_rank(rows: list[MetricResult]) -> list[dict[str, Any]]:
    """Median-standardised scores per (model, metric), averaged per explainer; rank 1 is best."""
    explainers, agg, cells = aggregate_scores(rows, np.array([[r.score for r in rows]]))
    kept = [(e, float(agg[0, k]), int(cells[k])) for k, e in enumerate(explainers) if cells[k] > 0]
    kept.sort(key=lambda t: -t[1])
    return [{"rank": i + 1, "explainer": e, "median_standardised": v, "cells": n} for i, (e, v, n) in enumerate(kept)]


def agreement(rows: list[MetricResult]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Kendall's tau between metrics over shared explainer x model cells (NaN with < 3 cells)."""
    sign = _direction(rows)
    cells: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    for r in rows:
        if np.isfinite(r.score):
            cells[r.metric][(r.explainer, r.model)] = sign[r.metric] * r.score
    names = sorted(cells)
    tau = np.full((len(names), len(names)), np.nan)
    counts = np.zeros((len(names), len(names)), int)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            common = sorted(set(cells[a]) & set(cells[b]))
            counts[i, j] = len(common)
            if len(common) >= 3:
                t = kendalltau([cells[a][c] for c in common], [cells[b][c] for c in common]).statistic
                tau[i, j] = float(t) if np.isfinite(t) else np.nan
    return names, tau, counts


@dataclass(frozen=True, eq=False)
class LeaderboardBootstrap:
    """The leaderboard resampled over images.

    Images are resampled per image set (the rows that scored the same images
    share their resamples, so their comparison is paired); ``scores`` is
    ``[B, R]`` in ``rows`` order, ``controls`` the same for each row's control.
    """

    options: BootstrapOptions
    scores: np.ndarray
    controls: np.ndarray
    score_low: np.ndarray
    score_high: np.ndarray
    control_low: np.ndarray
    control_high: np.ndarray
    aggregate: list[dict[str, Any]]  # aggregate_rank's rows, with intervals, rank distribution and ties
    tau_low: np.ndarray
    tau_high: np.ndarray


def _image_set_weights(images: tuple, n: int, options: BootstrapOptions) -> np.ndarray:
    key = zlib.crc32(json.dumps([str(i) for i in images]).encode())
    seed = int(np.random.SeedSequence([options.seed, key]).generate_state(1)[0])
    return resample_weights(n, resamples=options.resamples, seed=seed)


def _resampled_means(rows: list[MetricResult], options: BootstrapOptions) -> tuple[np.ndarray, np.ndarray]:
    """``[B, R]`` resampled means of every row's scores and of its control (NaN where a row has none)."""
    b = options.resamples
    scores, controls = np.full((b, len(rows)), np.nan), np.full((b, len(rows)), np.nan)
    weights: dict[tuple, np.ndarray] = {}
    for i, r in enumerate(rows):
        per_image = np.asarray(r.per_image, np.float64)
        if per_image.size == 0:
            continue
        key = (r.image_keys or tuple(range(per_image.size)), per_image.size)
        if key not in weights:
            weights[key] = _image_set_weights(*key, options)
        w = weights[key]
        scores[:, i] = weighted_means(per_image, w)
        ctrl = np.asarray(r.control_scores, np.float64)
        if ctrl.shape == per_image.shape:
            controls[:, i] = weighted_means(ctrl, w)
    return scores, controls


def _aggregate_intervals(rows: list[MetricResult], scores: np.ndarray, level: float) -> list[dict[str, Any]]:
    """:func:`aggregate_rank`'s rows with the aggregate's interval, the rank distribution and tie groups."""
    explainers, agg_b, _ = aggregate_scores(rows, scores)
    point = {a["explainer"]: a for a in aggregate_rank(rows)}
    cols = [k for k, e in enumerate(explainers) if e in point]
    names = [explainers[k] for k in cols]
    sub = agg_b[:, cols]
    summary = ranking.rank_summary(ranking.rank_batch(sub), level)
    a_lo, a_hi = percentile_interval(sub, level)
    groups = ranking.tie_groups([point[e]["median_standardised"] for e in names], sub, level)
    aggregate = []
    for k, e in enumerate(names):
        aggregate.append(
            {
                **point[e],
                "median_standardised_interval": [float(a_lo[k]), float(a_hi[k])],
                **summary[k],
                "tie_group": groups[k],
            }
        )
    aggregate.sort(key=lambda a: a["rank"])
    for a in aggregate:
        members = [x["rank"] for x in aggregate if x["tie_group"] == a["tie_group"]]
        a["rank_shown"] = str(a["rank"]) if len(members) == 1 else f"{min(members)}-{max(members)} (tie)"
        a["tied_with"] = [x["explainer"] for x in aggregate if x["tie_group"] == a["tie_group"] and x is not a]
    return aggregate


def _tau_intervals(rows: list[MetricResult], scores: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of :func:`agreement`'s Kendall's tau over the resampled ``scores``."""
    metric_names, tau, _ = agreement(rows)
    t_lo, t_hi = np.full_like(tau, np.nan), np.full_like(tau, np.nan)
    sign = _direction(rows)
    cell_of: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for k, r in enumerate(rows):
        if np.isfinite(r.score):
            cell_of[r.metric][(r.explainer, r.model)] = k
    for i, ma in enumerate(metric_names):
        for j, mb in enumerate(metric_names):
            if j < i or not np.isfinite(tau[i, j]):
                continue
            ca, cb = cell_of[ma], cell_of[mb]
            common = sorted(set(ca) & set(cb))
            xa = sign[ma] * scores[:, [ca[c] for c in common]]
            xb = sign[mb] * scores[:, [cb[c] for c in common]]
            lo, hi = percentile_interval(ranking.kendall_tau_batch(xa, xb), level)
            t_lo[i, j] = t_lo[j, i] = lo
            t_hi[i, j] = t_hi[j, i] = hi
    return t_lo, t_hi


def bootstrap_leaderboard(rows: list[MetricResult], options: BootstrapOptions | None = None) -> LeaderboardBootstrap:
    """Intervals of every score, the aggregate rank's distribution and Kendall's tau, from stored per-image scores."""
    options = options or BootstrapOptions()
    scores, controls = _resampled_means(rows, options)
    s_lo, s_hi = percentile_interval(scores, options.level)
    c_lo, c_hi = percentile_interval(controls, options.level)
    aggregate = _aggregate_intervals(rows, scores, options.level)
    t_lo, t_hi = _tau_intervals(rows, scores, options.level)
    return LeaderboardBootstrap(options, scores, controls, s_lo, s_hi, c_lo, c_hi, aggregate, t_lo, t_hi)
