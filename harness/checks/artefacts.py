"""ViT grid artefact: attribution energy that jumps at the patch boundaries.

A uniform-patch transformer (ViT, DeiT) embeds each ``p x p`` patch with
one linear map, so the gradient inside a patch is that map's transpose
applied to the patch token's gradient: one coefficient vector per patch.
IG multiplies by the input and averages over the path, but the imprint
stays: every patch gets its own gain, and the map's local energy is
roughly constant inside a patch and jumps at its edges (the blocks seen
in ViT IG maps).

Detector (:func:`grid_score`).  Cut the map into ``s x s`` blocks with
``s = p / 2``, aligned to the patch grid (the image origin), and take each
block's log mean square ``L``.  Between horizontally or vertically adjacent
blocks, ``|Delta L|`` is averaged separately over pairs that straddle a
patch boundary and pairs inside one patch; the score is

    mean |Delta L| across patch boundaries / mean |Delta L| inside patches.

A map without a patch grid scores about 1 (both kinds of pair see the
same local statistics); a per-patch gain scores well above 1.  Stride
aliasing, the checkerboards of strided convolutions at periods 2, 4 and 8,
fills every block with whole periods and leaves ``L`` unchanged, which is
why the detector does not read the raw spectrum at ``k/p`` (that earlier
detector, kept as :func:`spectral_score`, ranked the zoo's CNNs first).
Per model the score is the geometric mean over images.

Periods (:func:`periods_for`): uniform-patch transformers are scored at
their own patch size; every other model at each of
:data:`CANDIDATE_PERIODS` and the maximum is kept, so a CNN with a block
structure at either period is not missed.

What it does not see: a pattern shared by every patch at equal gain (a
tiled texture) leaves block energies periodic but equal across and inside
boundaries, so it scores about 1; :func:`spectral_score` sees that one.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .basic import CheckFailure

CANDIDATE_PERIODS = (16, 32)  # pixels: periods models without a patch size are scored at (max kept)
SUBBLOCKS = 2  # blocks per patch side: s = p / 2, so stride periods up to p / 2 average out in each block
CONTROL_MIN_SCORE = 2.0  # a synthetic per-patch-gain map scores at least this (1000 seeds at 224 px: >= 2.33)
# maps without a grid (noise under a smooth envelope, stride checkerboard, shifted blocks) score at most
# this (1000 seeds at 224 px: <= 1.35)
CONTROL_MAX_SCORE = 1.5
NEIGHBOURS = (1, 2)  # spectral_score: bins on each side of a harmonic that make its reference level


def periods_for(cfg) -> tuple[int, ...]:
    """Periods a model is scored at: its patch size for uniform-patch transformers, else the candidates."""
    return (cfg.patch_size,) if cfg.patch_size else CANDIDATE_PERIODS


def _crop(a: np.ndarray, period: int) -> np.ndarray:
    """Top-left ``n * period`` square (the patch grid starts at the origin); 260 px -> 256 at p = 16 or 32."""
    side = min(a.shape[-2:]) // period * period
    if side < 2 * period:
        raise ValueError(f"grid score: map {a.shape[-2:]} holds fewer than 2 patches of {period} px per side")
    return a[..., :side, :side]


def block_log_energy(attr: np.ndarray, size: int) -> np.ndarray:
    """``log(mean(a ** 2))`` over ``size x size`` blocks from the origin; ``[n, n]``."""
    a = np.asarray(attr, dtype=np.float64)
    n = min(a.shape) // size
    e = (a[: n * size, : n * size] ** 2).reshape(n, size, n, size).mean(axis=(1, 3))
    floor = 1e-12 * e.mean() if e.mean() > 0 else 1e-300  # zero blocks: a finite floor far below the map's level
    return np.log(e + floor)


def grid_score(attr: np.ndarray, period: int, *, offset: int = 0) -> float:
    """Boundary / inside ratio of block log-energy jumps for one ``[H, W]`` map; about 1 without a grid.

    ``offset`` shifts the assumed grid (a control: a real patch grid scores
    about 1 at ``offset = period // 4``).
    """
    if period % SUBBLOCKS:
        raise ValueError(f"grid score: period {period} is not a multiple of {SUBBLOCKS}")
    a = _crop(np.asarray(attr, dtype=np.float64)[offset:, offset:], period)
    L = block_log_energy(a, period // SUBBLOCKS)
    across, inside = [], []
    for axis in (0, 1):
        d = np.moveaxis(np.abs(np.diff(L, axis=axis)), axis, 0)  # row i: pair (block i, block i + 1)
        boundary = (np.arange(d.shape[0]) + 1) % SUBBLOCKS == 0
        across.append(d[boundary].ravel())
        inside.append(d[~boundary].ravel())
    num, den = np.concatenate(across).mean(), np.concatenate(inside).mean()
    if den == 0:
        return 1.0 if num == 0 else float("inf")
    return float(num / den)


def grid_scores(maps: np.ndarray, period: int) -> np.ndarray:
    return np.array([grid_score(m, period) for m in maps])


def model_score(maps: np.ndarray, periods: tuple[int, ...]) -> tuple[float, int]:
    """(score, period): geometric mean over images at each period, the maximum over periods."""
    return max((summarise(grid_scores(maps, p)), p) for p in periods)


def summarise(scores: np.ndarray) -> float:
    """Geometric mean over images (scores are ratios)."""
    return float(np.exp(np.mean(np.log(np.maximum(scores, 1e-12)))))


def spectral_score(attr: np.ndarray, period: int) -> float:
    """The first detector, kept for comparison: power at ``k/p`` cycles/px over bins +-1, +-2 beside them.

    Per axis, the power of the mean-removed map is summed over the other
    axis.  It fires on any periodic component, stride aliasing included.
    """
    a = _crop(np.asarray(attr, dtype=np.float64), period)
    a = a - a.mean()
    side = a.shape[-1]
    bins = list(range(side // period, side // 2 + 1, side // period))
    nyq = side // 2
    ratios = []
    for axis in (0, 1):
        p = (np.abs(np.fft.rfft(a, axis=axis)) ** 2).sum(axis=1 - axis)
        near = sorted(
            {
                b + s * d
                for b in bins
                for s in (-1, 1)
                for d in NEIGHBOURS
                if 0 < b + s * d <= nyq and (b + s * d) not in bins
            }
        )
        ratios.append(p[bins].mean() / max(p[near].mean(), 1e-300))
    return float(np.mean(ratios))


# -- synthetic maps: the control and the unit tests --------------------------------------------------------


def _smooth_field(side: int, rng: np.random.Generator, coarse: int = 6) -> np.ndarray:
    """A smooth random field: a coarse grid upsampled bilinearly (no block structure at any period)."""

    g = torch.from_numpy(rng.normal(size=(1, 1, coarse, coarse)))
    return F.interpolate(g, size=(side, side), mode="bilinear", align_corners=False)[0, 0].numpy()


def _envelope(side: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth positive gain (an object-shaped region of the map carrying more attribution)."""
    return np.exp(_smooth_field(side, rng))


def synthetic_grid(side: int, period: int, *, seed: int = 0, gain_sigma: float = 1.0, offset: int = 0) -> np.ndarray:
    """Positive control: white noise under a smooth envelope times one log-normal gain per ``p x p`` patch.

    This mimics a patch embedding: each patch's gradient is scaled by its own
    token's coefficients.  ``offset`` shifts the patch grid (a negative control).
    """
    rng = np.random.default_rng(seed)
    n = side // period + 2
    gain = np.exp(gain_sigma * rng.normal(size=(n, n)))
    blocks = np.kron(gain, np.ones((period, period)))[period - offset :, period - offset :][:side, :side]
    return rng.normal(size=(side, side)) * _envelope(side, rng) * blocks


def synthetic_stride_aliasing(side: int, stride: int, *, seed: int = 0, contrast: float = 1.0) -> np.ndarray:
    """A strided convolution's checkerboard: a ``+-1`` pattern of period ``stride`` under a smooth envelope."""
    rng = np.random.default_rng(seed)
    i = np.arange(side) // (stride // 2) % 2
    checker = np.where(i[:, None] ^ i[None, :], 1.0, -1.0)
    return (contrast * checker + 0.3 * rng.normal(size=(side, side))) * _envelope(side, rng)


def synthetic_smooth(side: int, *, seed: int = 0) -> np.ndarray:
    """White noise under a smooth envelope: an attribution map with no grid."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(side, side)) * _envelope(side, rng)


def check_grid_control(*, side: int = 224, period: int = 16, seed: int = 0) -> dict[str, float]:
    """The detector fires on a synthetic patch grid and stays quiet on maps without one."""
    __tracebackhide__ = True
    on = grid_score(synthetic_grid(side, period, seed=seed), period)
    offs = {
        "smooth": grid_score(synthetic_smooth(side, seed=seed), period),
        "stride4": grid_score(synthetic_stride_aliasing(side, 4, seed=seed), period),
        "shifted": grid_score(synthetic_grid(side, period, seed=seed, offset=period // 4), period),
    }
    if not on >= CONTROL_MIN_SCORE:
        raise CheckFailure(
            f"grid control: synthetic {period}-px patch-gain map scores {on:.3g} < "
            f"{CONTROL_MIN_SCORE} [grid score, side {side}]"
        )
    for name, off in offs.items():
        if not off <= CONTROL_MAX_SCORE:
            raise CheckFailure(
                f"grid control: {name} map without a {period}-px grid scores {off:.3g} > "
                f"{CONTROL_MAX_SCORE} [grid score, side {side}]"
            )
    return {"grid": round(on, 3), **{k: round(v, 3) for k, v in offs.items()}}


def check_grid_separation(scores: dict[str, float], patch_models: set[str], *, case: str) -> float:
    """Every uniform-patch transformer scores above every other model; returns the margin (ratio)."""
    __tracebackhide__ = True
    inside = {m: s for m, s in scores.items() if m in patch_models}
    outside = {m: s for m, s in scores.items() if m not in patch_models}
    if not inside or not outside:
        raise CheckFailure(f"grid separation: need scores on both sides, got {sorted(scores)} [{case}]")
    lo = min(inside, key=lambda m: inside[m])
    hi = max(outside, key=lambda m: outside[m])
    if not inside[lo] > outside[hi]:
        raise CheckFailure(
            f"grid separation: lowest uniform-patch score {inside[lo]:.3g} ({lo}) is not above the highest "
            f"other score {outside[hi]:.3g} ({hi}) (tolerance: strict order) [{case}]"
        )
    return inside[lo] / outside[hi]
