"""Bootstrap over images: intervals for similarities, clustering verdicts and their power.

The unit of resampling is the image.  A resample draws ``n`` of the ``n``
images with replacement; :func:`resample_weights` gives it as a ``[B, n]``
matrix of counts, so a statistic that is a mean over images becomes one
matrix product, and nothing per image (maps, similarities, metric scores) is
recomputed: the per-image values are computed once and re-weighted.

* :func:`pair_values` computes every model pair's per-image similarities
  once (``[n, P]``); :func:`bootstrap_pairs` turns resample weights into
  ``[B, M, M]`` similarity and dissimilarity matrices.
* :func:`cut_labels`, :func:`ari_batch` and :func:`silhouette_batch` give the
  2-cluster cut, its adjusted Rand index against the families and the family
  silhouette for every resample (ARI and silhouette vectorised over ``B``).
* :func:`percentile_interval` is the percentile interval (Efron): the
  ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled values.
* :func:`three_way` reads an ARI interval against a threshold, and
  :func:`images_needed` estimates, when it cannot decide, how many images
  would (half-width scaling as ``1 / sqrt(n)``).

Examples
--------
>>> w = resample_weights(4, resamples=3, seed=0)
>>> w.shape, w.sum(axis=1).tolist()
((3, 4), [4.0, 4.0, 4.0])
>>> lo, hi = percentile_interval(np.arange(101.0))
>>> round(float(lo), 6), round(float(hi), 6)
(2.5, 97.5)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from harness.compare.alignment import ARI_THRESHOLD
from harness.compare.clustering import _first_appearance
from harness.compare.similarity import (
    PairMetric,
    SimilarityMatrix,
    _resolve_metric,
    as_maps,
    similarity_from_values,
)

RESAMPLES = 1000
LEVEL = 0.95
POWER_METHOD = (
    "images needed: the interval's half-width on the threshold's side is assumed to shrink as 1/sqrt(n) "
    "around the same estimate; n_needed = ceil(n * (half-width / |estimate - threshold|)^2)"
)


@dataclass(frozen=True)
class BootstrapOptions:
    """How the bootstrap runs: ``resamples`` (B; 0: no intervals), ``seed``, ``level``, the ARI ``threshold``."""

    resamples: int = RESAMPLES
    seed: int = 0
    level: float = LEVEL
    threshold: float = ARI_THRESHOLD

    def __post_init__(self) -> None:
        if self.resamples < 0:
            raise ValueError(f"resamples must be >= 0 (0: no intervals), got {self.resamples}")
        if not 0.0 < self.level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {self.level}")

    def describe(self) -> dict[str, Any]:
        """Plain, self-describing settings for the JSON reports."""
        return {
            **asdict(self),
            "unit": "image",
            "interval": "percentile",
            "power_method": POWER_METHOD,
        }


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap interval ``[low, high]``; ``str`` gives ``0.82 [0.75, 0.88]``."""

    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        return format_interval(self.estimate, self.low, self.high)

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def format_interval(estimate: float, low: float, high: float, digits: int = 2) -> str:
    """``0.82 [0.75, 0.88]``; NaN parts print as ``nan``.

    Examples
    --------
    >>> format_interval(0.8213, 0.75, 0.884)
    '0.82 [0.75, 0.88]'
    """
    return f"{estimate:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def resample_weights(n: int, *, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """``[B, n]`` counts: how often each of ``n`` images is drawn in each of ``B`` resamples (rows sum to ``n``)."""
    if n < 1:
        raise ValueError(f"need at least one image to resample, got {n}")
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    counts = np.zeros((resamples, n), dtype=np.float64)
    np.add.at(counts, (np.repeat(np.arange(resamples), n), idx.ravel()), 1.0)
    return counts


def percentile_interval(samples: Any, level: float = LEVEL, *, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval of resampled values along ``axis`` (NaN resamples are left out)."""
    s = np.atleast_1d(np.asarray(samples, dtype=np.float64))
    if s.size == 0:  # no resamples or no columns: NaN bounds of the shape the reduction would give
        empty = np.full(np.delete(s.shape, axis % s.ndim), np.nan)
        return empty, empty.copy()
    q = [100 * (1 - level) / 2, 100 * (1 + level) / 2]
    with warnings.catch_warnings():  # a column with no finite resample gives NaN, by design
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanpercentile(s, q, axis=axis)
    return lo, hi


def interval(estimate: float, samples: Any, level: float = LEVEL) -> Interval:
    """:class:`Interval` of ``estimate`` from its resampled values."""
    lo, hi = percentile_interval(samples, level)
    return Interval(float(estimate), float(lo), float(hi))


def weighted_means(values: np.ndarray, weights: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-resample means of per-image ``values`` ``[n, P]`` under ``weights`` ``[B, n]`` -> ``[B, P]``.

    ``mask`` (``[n, P]`` bool) keeps only some images per column; non-finite
    values count as masked.  A column with no weight left in a resample is NaN.
    """
    v = np.asarray(values, dtype=np.float64)
    squeeze = v.ndim == 1
    v = v[:, None] if squeeze else v
    keep = np.isfinite(v) if mask is None else (np.asarray(mask, bool).reshape(v.shape) & np.isfinite(v))
    num = weights @ np.where(keep, v, 0.0)
    den = weights @ keep.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out[:, 0] if squeeze else out


# -- model pairs ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PairValues:
    """Every model pair's per-image similarity, computed once.

    Attributes
    ----------
    names:
        Model names.
    pairs:
        ``(i, j)`` with ``i < j`` per column, in row-major order.
    values:
        ``[n, P]`` per-image similarity of each pair.
    mask:
        ``[n, P]`` which images each pair is compared on (all, or where both
        models predict the same class).
    """

    names: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    values: np.ndarray
    mask: np.ndarray

    @property
    def n_images(self) -> int:
        return int(self.values.shape[0])

    def matrix(self, *, fill: float = 0.0) -> SimilarityMatrix:
        """The full-data :class:`SimilarityMatrix` (what :func:`similarity_matrix` gives on the same input)."""
        return similarity_from_values(self.names, self.pairs, self.values, self.mask, fill=fill)


def pair_values(
    maps: Mapping[str, Any],
    *,
    metric: str | PairMetric = "cosine",
    same_prediction: Mapping[str, Any] | None = None,
) -> PairValues:
    """The per-image similarity of every model pair (each metric called once per pair, on all images)."""
    names = tuple(maps)
    if len(names) < 2:
        raise ValueError("need at least two models")
    fn = _resolve_metric(metric)
    arrays = [as_maps(maps[n], name=n) for n in names]
    n = arrays[0].shape[0]
    for name, arr in zip(names, arrays):
        if arr.shape != arrays[0].shape:
            raise ValueError(f"{name}: maps of shape {arr.shape} differ from {names[0]}: {arrays[0].shape}")
    pairs = tuple((i, j) for i in range(len(names)) for j in range(i + 1, len(names)))
    values = np.empty((n, len(pairs)))
    for p, (i, j) in enumerate(pairs):
        s = np.asarray(fn(arrays[i], arrays[j]), dtype=np.float64).ravel()
        if s.shape != (n,):
            raise ValueError(f"metric returned shape {s.shape} for {n} images")
        values[:, p] = s
    mask = np.ones_like(values, dtype=bool)
    if same_prediction is not None:
        preds = [np.asarray(same_prediction[m]).ravel() for m in names]
        for p, (i, j) in enumerate(pairs):
            mask[:, p] = preds[i] == preds[j]
    return PairValues(names, pairs, values, mask)


def bootstrap_pairs(pv: PairValues, weights: np.ndarray, *, fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``[B, M, M]`` similarity and dissimilarity ``sqrt((1 - mean)^2 + std^2)`` under resample weights.

    As :func:`~harness.compare.similarity_matrix`: population std, diagonal 1
    and 0, and a pair with no images left gets similarity ``fill``, std 0.
    """
    mean = weighted_means(pv.values, weights, pv.mask)
    second = weighted_means(pv.values**2, weights, pv.mask)
    empty = ~np.isfinite(mean)
    mean = np.where(empty, fill, mean)
    var = np.clip(np.where(empty, 0.0, second - mean**2), 0.0, None)
    dis = np.hypot(1.0 - mean, np.sqrt(var))
    m, b = len(pv.names), weights.shape[0]
    sim_m, dis_m = np.tile(np.eye(m), (b, 1, 1)), np.zeros((b, m, m))
    ii = np.array([i for i, _ in pv.pairs], dtype=np.intp)
    jj = np.array([j for _, j in pv.pairs], dtype=np.intp)
    sim_m[:, ii, jj] = sim_m[:, jj, ii] = mean
    dis_m[:, ii, jj] = dis_m[:, jj, ii] = dis
    return sim_m, dis_m


# -- clustering verdict -------------------------------------------------------------


def cut_labels(dissims: np.ndarray, k: int = 2, *, method: str = "average") -> np.ndarray:
    """``[B, M]`` labels of the ``k``-cluster cut of each resample's linkage tree (as :meth:`Clustering.cut`).

    Agglomerates all ``B`` matrices at once (Lance-Williams updates, the
    global closest pair merged first); a resample with tied merge heights,
    where the merge order decides the cut, goes through SciPy's ``linkage``
    and ``fcluster`` instead, so every row equals what :func:`cluster` and
    :meth:`Clustering.cut` give.
    """
    if method not in _UPDATES:
        raise ValueError(f"method must be one of {tuple(_UPDATES)}, got {method!r}")
    d = np.clip((np.asarray(dissims, dtype=np.float64) + np.swapaxes(dissims, 1, 2)) / 2, 0.0, None)
    b, m = d.shape[:2]
    if not 1 <= k <= m:
        raise ValueError(f"k must be in 1..{m}, got {k}")
    rows = np.arange(b)
    work = d.copy()
    work[:, np.arange(m), np.arange(m)] = np.inf
    size = np.ones((b, m))
    owner = np.tile(np.arange(m), (b, 1))  # cluster (by its surviving index) of each model
    tied = np.zeros(b, dtype=bool)
    last = np.full(b, -np.inf)
    for _ in range(m - k):
        flat = work.reshape(b, -1)
        at = flat.argmin(axis=1)
        low = flat[rows, at]
        tied |= (np.sum(flat == low[:, None], axis=1) > 2) | (low == last)
        last = low
        i, j = np.minimum(at // m, at % m), np.maximum(at // m, at % m)
        di, dj = work[rows, i], work[rows, j]
        si, sj = size[rows, i][:, None], size[rows, j][:, None]
        merged = _UPDATES[method](di, dj, si, sj)
        work[rows, i], work[rows, :, i] = merged, merged
        work[rows, j], work[rows, :, j] = np.inf, np.inf
        work[rows, i, i] = np.inf
        size[rows, i] += size[rows, j]
        owner = np.where(owner == j[:, None], i[:, None], owner)
    if k > 1:  # the next merge at the same height: fcluster would cut fewer clusters
        tied |= work.reshape(b, -1).min(axis=1) == last
    out = np.stack([_first_appearance(o) for o in owner]) if b else owner
    for r in np.flatnonzero(tied):
        tree = linkage(squareform(d[r], checks=False), method=method)
        out[r] = _first_appearance(fcluster(tree, t=k, criterion="maxclust"))
    return out


_UPDATES = {
    "average": lambda di, dj, si, sj: (si * di + sj * dj) / (si + sj),
    "single": lambda di, dj, si, sj: np.minimum(di, dj),
    "complete": lambda di, dj, si, sj: np.maximum(di, dj),
    "weighted": lambda di, dj, si, sj: (di + dj) / 2.0,
}


def _onehot(labels: np.ndarray) -> np.ndarray:
    """``[..., M]`` integer labels -> ``[..., M, K]`` one-hot."""
    k = int(labels.max()) + 1 if labels.size else 1
    return (labels[..., None] == np.arange(k)).astype(np.float64)


def _codes(families: Sequence[str]) -> np.ndarray:
    order = list(dict.fromkeys(str(f) for f in families))
    return np.array([order.index(str(f)) for f in families], dtype=np.int64)


def ari_batch(labels: np.ndarray, families: Sequence[str]) -> np.ndarray:
    """Adjusted Rand index of each row of ``labels`` ``[B, M]`` against ``families`` (as scikit-learn's).

    Two one-group partitions, or any perfect match of trivial partitions,
    give 1.0 as in :func:`sklearn.metrics.adjusted_rand_score`.
    """
    lab = np.asarray(labels, dtype=np.int64)
    fam = _onehot(_codes(families))  # [M, F]
    table = np.einsum("bmk,mf->bkf", _onehot(lab), fam)  # contingency [B, K, F]
    n = lab.shape[1]

    def comb2(x: Any) -> Any:
        return x * (x - 1) / 2.0

    index = comb2(table).sum(axis=(1, 2))
    a = comb2(table.sum(axis=2)).sum(axis=1)
    b = comb2(table.sum(axis=1)).sum(axis=1)
    expected = a * b / comb2(np.float64(n))
    maximum = (a + b) / 2.0
    denom = maximum - expected
    with np.errstate(invalid="ignore", divide="ignore"):
        ari = np.where(denom != 0, (index - expected) / np.where(denom != 0, denom, 1.0), 1.0)
    return ari


def silhouette_batch(dissims: np.ndarray, families: Sequence[str]) -> np.ndarray:
    """Mean family silhouette of each resample's ``[M, M]`` dissimilarity -> ``[B]`` (as :func:`silhouette_by_family`).

    A model alone in its family scores 0; with one family, or every model its
    own family, every score is 0.
    """
    d = np.asarray(dissims, dtype=np.float64)
    codes = _codes(families)
    m = len(codes)
    n_f = int(codes.max()) + 1
    if not 2 <= n_f <= m - 1:
        return np.zeros(d.shape[0])
    onehot = _onehot(codes)  # [M, F]
    sizes = onehot.sum(axis=0)  # [F]
    sums = d @ onehot  # [B, M, F]: distance from each model to each family
    own = sizes[codes] - 1.0  # [M]
    with np.errstate(invalid="ignore", divide="ignore"):
        a = sums[:, np.arange(m), codes] / np.where(own > 0, own, 1.0)
        means = sums / sizes
    means[:, np.arange(m), codes] = np.inf
    b = means.min(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    s = np.where((own > 0) & np.isfinite(s), s, 0.0)
    return s.mean(axis=1)


# -- reading the interval -------------------------------------------------------


def three_way(ari: Interval, threshold: float = ARI_THRESHOLD) -> str:
    """``"follows"`` when the ARI interval lies above ``threshold``, ``"does not follow"`` below, else ``"undecided"``.

    Examples
    --------
    >>> three_way(Interval(0.9, 0.7, 1.0)), three_way(Interval(0.0, -0.1, 0.3)), three_way(Interval(0.5, 0.1, 0.9))
    ('follows', 'does not follow', 'undecided')
    """
    if ari.low > threshold:
        return "follows"
    if ari.high < threshold:
        return "does not follow"
    return "undecided"


def images_needed(ari: Interval, n_images: int, threshold: float = ARI_THRESHOLD) -> int | None:
    """Images that would decide an undecided interval, if its half-width shrinks as ``1 / sqrt(n)``.

    The half-width on the threshold's side (``estimate - low`` or ``high -
    estimate``) must fall below the distance ``|estimate - threshold|``; None
    when the estimate sits on the threshold (no number of images decides) or
    the interval has no width.  A rough planning figure: the ARI of a cut is a
    step function of the data, and the estimate may move with more images.

    Examples
    --------
    >>> images_needed(Interval(0.7, 0.3, 0.9), 8)  # half-width 0.4, distance 0.2: 4x the images
    32
    """
    gap = ari.estimate - threshold
    half = ari.estimate - ari.low if gap > 0 else ari.high - ari.estimate
    if gap == 0 or not np.isfinite(gap) or not half > 0:
        return None
    return int(np.ceil(n_images * (half / abs(gap)) ** 2 - 1e-9))


# -- one consensus analysis ---------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ConsensusBootstrap:
    """Resampled consensus of one explainer under one metric.

    Attributes
    ----------
    similarity_low, similarity_high, dissimilarity_low, dissimilarity_high:
        ``[M, M]`` interval bounds of each pair's mean similarity and dissimilarity.
    ari, purity, silhouette:
        Intervals of the 2-cluster cut's ARI and purity against the families,
        and of the family silhouette (estimates: the full-data values).
    state:
        :func:`three_way` of the ARI interval.
    images_needed:
        :func:`images_needed` when undecided, else None.
    n_images, resamples:
        Images resampled and ``B``.
    """

    similarity_low: np.ndarray
    similarity_high: np.ndarray
    dissimilarity_low: np.ndarray
    dissimilarity_high: np.ndarray
    ari: Interval
    purity: Interval
    silhouette: Interval
    state: str
    images_needed: int | None
    n_images: int
    resamples: int


def purity_batch(labels: np.ndarray, families: Sequence[str]) -> np.ndarray:
    """Purity of each row of ``labels`` ``[B, M]``: share of models in their cluster's majority family."""
    lab = np.asarray(labels, dtype=np.int64)
    table = np.einsum("bmk,mf->bkf", _onehot(lab), _onehot(_codes(families)))
    return table.max(axis=2).sum(axis=1) / lab.shape[1]


def bootstrap_consensus(
    pv: PairValues,
    families: Sequence[str],
    weights: np.ndarray,
    *,
    estimates: Mapping[str, float],
    method: str = "average",
    level: float = LEVEL,
    threshold: float = ARI_THRESHOLD,
) -> ConsensusBootstrap:
    """Intervals of a consensus analysis from per-image pair values and resample ``weights`` ``[B, n]``.

    ``estimates`` holds the full-data ``ari``, ``purity`` and ``silhouette``
    (the report's point values, from :func:`~harness.compare.alignment`).
    """
    sims, dis = bootstrap_pairs(pv, weights)
    s_lo, s_hi = percentile_interval(sims, level)
    d_lo, d_hi = percentile_interval(dis, level)
    labels = cut_labels(dis, 2, method=method)
    ari = interval(estimates["ari"], ari_batch(labels, families), level)
    purity = interval(estimates["purity"], purity_batch(labels, families), level)
    sil = interval(estimates["silhouette"], silhouette_batch(dis, families), level)
    state = three_way(ari, threshold)
    need = images_needed(ari, pv.n_images, threshold) if state == "undecided" else None
    return ConsensusBootstrap(s_lo, s_hi, d_lo, d_hi, ari, purity, sil, state, need, pv.n_images, weights.shape[0])
