"""How far one explanation moved: cosine, Spearman, top-10 % mask IoU and relative L2 (pure NumPy/SciPy).

The cosine and the top-k masks are :mod:`harness.compare`'s; Spearman is
SciPy's rank correlation of the two flattened maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from .kappa import binarize
from .similarity import cosine_similarity

TOP_FRACTION = 0.1


@dataclass(frozen=True)
class MapChange:
    """Similarity of a map before (a) and after (b)."""

    cosine: float
    spearman: float
    iou: float  # of the top ``TOP_FRACTION`` masks
    rel_l2: float  # ||b - a|| / ||a|| (0 for two zero maps)
    max_abs: float  # max |b - a|
    identical: bool  # bit for bit

    def to_dict(self) -> dict[str, float | bool]:
        return {
            "cosine": self.cosine,
            "spearman": self.spearman,
            "top10_iou": self.iou,
            "rel_l2": self.rel_l2,
            "max_abs": self.max_abs,
            "identical": self.identical,
        }


def mask_iou(a: np.ndarray, b: np.ndarray, *, top_k: float = TOP_FRACTION) -> float:
    """IoU of the top ``top_k`` pixel masks of two ``[H, W]`` maps."""
    ma = binarize(a[None], top_k=top_k)[0]
    mb = binarize(b[None], top_k=top_k)[0]
    union = np.logical_or(ma, mb).sum()
    return float(np.logical_and(ma, mb).sum() / union) if union else 1.0


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps' pixels (1.0 when both are constant and equal)."""

    x, y = a.ravel(), b.ravel()
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 1.0 if np.array_equal(x, y) else 0.0
    return float(spearmanr(x, y).statistic)


def map_change(a: np.ndarray, b: np.ndarray) -> MapChange:
    """Every measure of how ``b`` differs from ``a`` (two ``[H, W]`` maps of one case)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"maps of shape {a.shape} and {b.shape} cannot be compared")
    norm_a, norm_d = float(np.linalg.norm(a)), float(np.linalg.norm(b - a))
    both_zero = norm_a == 0 and float(np.linalg.norm(b)) == 0
    cos = 1.0 if both_zero else float(cosine_similarity(a[None], b[None])[0])
    return MapChange(
        cosine=cos,
        spearman=spearman(a, b),
        iou=mask_iou(a, b),
        rel_l2=0.0 if norm_d == 0 else (norm_d / norm_a if norm_a else float("inf")),
        max_abs=float(np.abs(b - a).max(initial=0.0)),
        identical=bool(np.array_equal(a, b)),
    )
