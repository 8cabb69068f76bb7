"""ViT grid artefact: a periodic component of the map at the patch frequency.

Uniform-patch transformers (ViT, DeiT) see the image as a grid of
``p x p`` patches, and their gradient-based maps tend to carry that grid:
energy at the spatial frequency ``1/p`` cycles per pixel and its harmonics.

The detector works on the map's 2-D spectrum, collapsed per axis: the power
``|F(u, v)|^2`` of the mean-removed map is summed over ``v`` (and, for the
other axis, over ``u``), giving how much energy sits at each frequency along
rows and columns, whatever the structure across them.  For side ``S`` and
period ``p`` (``S`` a multiple of ``p``), the harmonics ``k/p`` fall on the
exact bins ``k * S / p``, so no window is needed and nothing leaks.  The
score is

    mean power at the harmonic bins / mean power at their neighbours (bins +-1, +-2),

averaged over both axes, and over images as a geometric mean.  A map with no
periodic component has a smooth spectrum and scores about 1; a patch grid
scores far above.  Models without a patch size are scored at a nominal
period of 16 pixels (:data:`NOMINAL_PERIOD`).
"""

from __future__ import annotations

import numpy as np

from .basic import CheckFailure

NOMINAL_PERIOD = 16  # pixels: the period CNNs and hierarchical transformers are scored at
NEIGHBOURS = (1, 2)  # bins on each side of a harmonic that make its reference level
CONTROL_MIN_SCORE = 10.0  # a synthetic patch grid must score at least this
CONTROL_MAX_SCORE = 2.0  # a smooth map without a grid must score at most this


def period_for(cfg) -> int:
    """Patch period in pixels: ``cfg.patch_size`` for uniform-patch transformers, else the nominal 16."""
    return cfg.patch_size or NOMINAL_PERIOD


def harmonic_bins(side: int, period: int) -> list[int]:
    if side % period:
        raise ValueError(f"grid score: side {side} is not a multiple of the period {period}")
    step = side // period
    return list(range(step, side // 2 + 1, step))


def _axis_power(a: np.ndarray, axis: int) -> np.ndarray:
    """Power per frequency along ``axis`` (rfft bins), summed over the other axis."""
    spec = np.abs(np.fft.rfft(a, axis=axis)) ** 2
    return spec.sum(axis=1 - axis)


def grid_score(attr: np.ndarray, period: int) -> float:
    """Score of one ``[H, W]`` map (square); about 1 without a grid, large with one."""
    a = np.asarray(attr, dtype=np.float64)
    a = a - a.mean()
    side = a.shape[-1]
    bins = harmonic_bins(side, period)
    nyq = side // 2
    ratios = []
    for axis in (0, 1):
        p = _axis_power(a, axis)
        near = sorted({b + s * d for b in bins for s in (-1, 1) for d in NEIGHBOURS
                       if 0 < b + s * d <= nyq and (b + s * d) not in bins})
        ref = p[near].mean()
        ratios.append(p[bins].mean() / max(ref, 1e-300))
    return float(np.mean(ratios))


def grid_scores(maps: np.ndarray, period: int) -> np.ndarray:
    return np.array([grid_score(m, period) for m in maps])


def summarise(scores: np.ndarray) -> float:
    """Geometric mean over images (scores are ratios)."""
    return float(np.exp(np.mean(np.log(np.maximum(scores, 1e-12)))))


def synthetic_grid(side: int, period: int, *, seed: int = 0, contrast: float = 0.3) -> np.ndarray:
    """Positive control: a smooth random field plus one random ``period x period`` pattern tiled over it.

    This mimics how a patch embedding imprints the same within-patch pattern on every patch.
    """
    rng = np.random.default_rng(seed)
    smooth = _smooth_field(side, rng)
    tile = np.tile(rng.normal(size=(period, period)), (side // period, side // period))
    return smooth + contrast * tile


def _smooth_field(side: int, rng: np.random.Generator, coarse: int = 6) -> np.ndarray:
    """A smooth random field: a coarse grid upsampled bilinearly (no periodic component at ``k/period``)."""
    import torch
    import torch.nn.functional as F

    g = torch.from_numpy(rng.normal(size=(1, 1, coarse, coarse)))
    return F.interpolate(g, size=(side, side), mode="bilinear", align_corners=False)[0, 0].numpy()


def check_grid_control(*, side: int = 224, period: int = 16, seed: int = 0) -> dict[str, float]:
    """The detector fires on a synthetic patch grid and stays quiet on a smooth field."""
    __tracebackhide__ = True
    rng = np.random.default_rng(seed)
    on = grid_score(synthetic_grid(side, period, seed=seed), period)
    off = grid_score(_smooth_field(side, rng), period)
    if not on >= CONTROL_MIN_SCORE:
        raise CheckFailure(f"grid control: synthetic {period}-px patch grid scores {on:.3g} < "
                           f"{CONTROL_MIN_SCORE} [grid score, side {side}]")
    if not off <= CONTROL_MAX_SCORE:
        raise CheckFailure(f"grid control: smooth field without a grid scores {off:.3g} > "
                           f"{CONTROL_MAX_SCORE} [grid score, side {side}]")
    return {"grid": round(on, 3), "smooth": round(off, 3)}


def check_grid_separation(scores: dict[str, float], patch_models: set[str], *, case: str) -> float:
    """Every uniform-patch transformer scores above every other model; returns the margin (ratio)."""
    __tracebackhide__ = True
    inside = {m: s for m, s in scores.items() if m in patch_models}
    outside = {m: s for m, s in scores.items() if m not in patch_models}
    if not inside or not outside:
        raise CheckFailure(f"grid separation: need scores on both sides, got {sorted(scores)} [{case}]")
    lo = min(inside, key=inside.get)
    hi = max(outside, key=outside.get)
    if not inside[lo] > outside[hi]:
        raise CheckFailure(
            f"grid separation: lowest uniform-patch score {inside[lo]:.3g} ({lo}) is not above the highest "
            f"other score {outside[hi]:.3g} ({hi}) (tolerance: strict order) [{case}]"
        )
    return inside[lo] / outside[hi]
