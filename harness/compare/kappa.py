"""Cohen's kappa between two models' explanation maps, per image.

Each map is first reduced to a few levels, then the two models' levels are
compared pixel by pixel as if two raters had labelled the pixels:

- :func:`cohens_kappa` binarises (important / not important) with an
  absolute ``threshold`` or the ``top_k`` fraction of pixels;
- :func:`ordinal_kappa` uses several thresholds or fractions at once and a
  weighted kappa, so that near misses (level 2 vs 3) cost less than far ones.

Both equal :func:`sklearn.metrics.cohen_kappa_score` on the levelled vectors
of each image (with ``labels=range(n_levels)`` for the ordinal variant), but
are vectorised over images and never return NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from harness.compare.similarity import as_maps

Weights = Literal["linear", "quadratic"]


def binarize(maps: Any, *, threshold: float | None = None, top_k: float | None = None) -> np.ndarray:
    """Important-pixel masks, by absolute threshold or top-k fraction.

    Parameters
    ----------
    maps:
        ``[N, H, W]`` maps (array or torch tensor).
    threshold:
        A pixel is important when its value is strictly greater.
    top_k:
        Fraction in ``(0, 1]``: a pixel is important when its value is at
        least the ``k``-th largest of its map, ``k = ceil(top_k * H * W)``.
        Ties at the cut are all kept, so a constant (e.g. all-zero) map marks
        every pixel important.  Give exactly one of ``threshold`` and ``top_k``.

    Returns
    -------
    numpy.ndarray
        ``[N, H * W]`` booleans.

    Examples
    --------
    >>> binarize(np.array([[[0.1, 0.9], [0.5, 0.3]]]), top_k=0.5)
    array([[False,  True,  True, False]])
    """
    if (threshold is None) == (top_k is None):
        raise ValueError("give exactly one of threshold and top_k")
    x = _pixels(maps)
    if top_k is None:
        return x > threshold
    return x >= _top_k_cutoff(x, top_k)[:, None]


def levels(
    maps: Any,
    *,
    thresholds: Sequence[float] | None = None,
    top_ks: Sequence[float] | None = None,
) -> np.ndarray:
    """Ordinal importance levels: how many thresholds (or top-k sets) each pixel passes.

    Parameters
    ----------
    maps:
        ``[N, H, W]`` maps.
    thresholds:
        Distinct absolute thresholds; level = number of them the value exceeds.
    top_ks:
        Distinct fractions in ``(0, 1]``; level = number of the nested top-k
        sets (see :func:`binarize`) the pixel belongs to, so the top 5 % of
        pixels with ``top_ks=(0.05, 0.25)`` get level 2.  Give exactly one.

    Returns
    -------
    numpy.ndarray
        ``[N, H * W]`` integers in ``0 .. len(cuts)``.

    Examples
    --------
    >>> levels(np.array([[[0.1, 0.9], [0.5, 0.3]]]), thresholds=(0.2, 0.6))
    array([[0, 2, 1, 1]])
    """
    if (thresholds is None) == (top_ks is None):
        raise ValueError("give exactly one of thresholds and top_ks")
    cuts = _cuts(thresholds if thresholds is not None else top_ks)
    x = _pixels(maps)
    out = np.zeros(x.shape, dtype=np.int64)
    for cut in cuts:
        out += binarize(x, threshold=cut) if thresholds is not None else binarize(x, top_k=cut)
    return out


def cohens_kappa(a: Any, b: Any, *, threshold: float | None = None, top_k: float | None = None) -> np.ndarray:
    """Cohen's kappa between the binarised maps of two models, per image.

    Parameters
    ----------
    a, b:
        ``[N, H, W]`` maps of the same images from two models.
    threshold, top_k:
        How to binarise each map (see :func:`binarize`); exactly one.

    Returns
    -------
    numpy.ndarray
        ``[N]`` kappas in ``[-1, 1]``, equal to
        ``sklearn.metrics.cohen_kappa_score(bin_a[i], bin_b[i])`` where that is
        defined.  Where chance agreement is 1 (sklearn gives NaN), the result
        is ``1.0`` if the two masks are identical (both constant and equal,
        e.g. two all-zero maps with ``top_k``) and ``0.0`` otherwise.  An
        all-important mask against an all-unimportant one gives ``0.0``.

    Examples
    --------
    >>> a = np.array([[[0.0, 1.0], [2.0, 3.0]]])
    >>> cohens_kappa(a, a[:, ::-1], top_k=0.5)  # the two top halves are disjoint
    array([-1.])
    """
    mask_a = binarize(a, threshold=threshold, top_k=top_k)
    mask_b = binarize(b, threshold=threshold, top_k=top_k)
    return _kappa(mask_a, mask_b, 2, None)


def ordinal_kappa(
    a: Any,
    b: Any,
    *,
    thresholds: Sequence[float] | None = None,
    top_ks: Sequence[float] | None = None,
    weights: Weights | None = "linear",
) -> np.ndarray:
    """Weighted Cohen's kappa between multi-level maps of two models, per image.

    Parameters
    ----------
    a, b:
        ``[N, H, W]`` maps of the same images from two models.
    thresholds, top_ks:
        How to level each map (see :func:`levels`); exactly one.
    weights:
        Disagreement cost between levels ``i`` and ``j``: ``"linear"``
        ``|i - j|``, ``"quadratic"`` ``(i - j)^2``, ``None`` 1 for any
        difference (plain kappa), as in scikit-learn.

    Returns
    -------
    numpy.ndarray
        ``[N]`` kappas, equal to ``cohen_kappa_score(lev_a[i], lev_b[i],
        labels=range(n_levels), weights=weights)``; level distances are the
        true ordinal ones even when some levels are empty.  The same rule as
        :func:`cohens_kappa` applies when the expected disagreement is 0:
        ``1.0`` for identical level maps, ``0.0`` otherwise.

    Examples
    --------
    >>> a = np.arange(16.0).reshape(1, 4, 4)
    >>> ordinal_kappa(a, a, top_ks=(0.1, 0.25, 0.5))
    array([1.])
    """
    if weights not in ("linear", "quadratic", None):
        raise ValueError(f"weights must be 'linear', 'quadratic' or None, got {weights!r}")
    la = levels(a, thresholds=thresholds, top_ks=top_ks)
    lb = levels(b, thresholds=thresholds, top_ks=top_ks)
    cuts = thresholds if thresholds is not None else top_ks
    n_levels = len(cuts or ()) + 1
    return _kappa(la, lb, n_levels, weights)


def _pixels(maps: Any) -> np.ndarray:
    x = as_maps(maps)
    if x.shape[1] == 0:
        raise ValueError("maps have no pixels")
    return x


def _top_k_cutoff(x: np.ndarray, top_k: float) -> np.ndarray:
    if not 0 < top_k <= 1:
        raise ValueError(f"top_k must be in (0, 1], got {top_k}")
    n_pixels = x.shape[1]
    # The tolerance keeps 0.1 * 100 = 10.000000000000002 at k = 10.
    k = int(np.clip(np.ceil(top_k * n_pixels - 1e-9), 1, n_pixels))
    return np.partition(x, n_pixels - k, axis=1)[:, n_pixels - k]


def _cuts(values: Sequence[float] | None) -> list[float]:
    cuts = sorted(float(v) for v in (values or ()))
    if not cuts:
        raise ValueError("need at least one threshold or top-k fraction")
    if len(set(cuts)) != len(cuts):
        raise ValueError(f"cuts must be distinct, got {list(values or ())}")
    return cuts


def _kappa(la: np.ndarray, lb: np.ndarray, n_levels: int, weights: Weights | None) -> np.ndarray:
    """Kappa per row from integer level arrays ``[N, P]``, in exact integer arithmetic."""
    if la.shape != lb.shape:
        raise ValueError(f"maps differ in shape: {la.shape} vs {lb.shape}")
    i, j = np.indices((n_levels, n_levels))
    if weights == "linear":
        w = np.abs(i - j)
    elif weights == "quadratic":
        w = (i - j) ** 2
    else:
        w = (i != j).astype(np.int64)
    la, lb = la.astype(np.int64), lb.astype(np.int64)
    n_pixels = la.shape[1]
    observed = w[la, lb].sum(axis=1) * n_pixels
    ra = np.stack([(la == k).sum(axis=1) for k in range(n_levels)], axis=1)
    rb = np.stack([(lb == k).sum(axis=1) for k in range(n_levels)], axis=1)
    expected = np.einsum("ni,ij,nj->n", ra, w, rb)
    safe = np.where(expected == 0, 1, expected)
    kappa = 1.0 - observed.astype(np.float64) / safe.astype(np.float64)
    return np.where(expected == 0, np.where(observed == 0, 1.0, 0.0), kappa)
