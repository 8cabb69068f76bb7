"""Reference inputs for baseline-based explainers, in the model's input space."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..images.preprocess import denormalize, normalize
from ..models.config import ModelCfg

BASELINES = ("black", "blur", "noise", "zero")


def _gaussian_blur(unit: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding, per channel."""
    radius = max(1, min(int(3 * sigma), unit.shape[-1] - 1, unit.shape[-2] - 1))
    xs = torch.arange(-radius, radius + 1, dtype=unit.dtype, device=unit.device)
    k = torch.exp(-(xs**2) / (2 * sigma**2))
    k = k / k.sum()
    c = unit.shape[1]
    out = F.conv2d(
        F.pad(unit, (radius, radius, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c
    )
    return F.conv2d(
        F.pad(out, (0, 0, radius, radius), mode="reflect"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c
    )


def make_baseline(x: torch.Tensor, cfg: ModelCfg, kind: str, *, seed: int = 0) -> torch.Tensor:
    """Baseline for normalised input ``x``.

    ``black``: black pixels; ``blur``: Gaussian blur with sigma = 1/16 of the
    side; ``noise``: uniform pixel noise from ``seed``; ``zero``: zeros in the
    normalised space (the mean image for mean/std normalisation).
    """
    if kind == "zero":
        return torch.zeros_like(x)
    if kind == "black":
        return normalize(torch.zeros_like(x), cfg)
    if kind == "blur":
        return normalize(_gaussian_blur(denormalize(x, cfg), x.shape[-1] / 16), cfg)
    if kind == "noise":
        gen = torch.Generator(device="cpu").manual_seed(seed)
        return normalize(torch.rand(x.shape, generator=gen).to(x.device, x.dtype), cfg)
    raise ValueError(f"unknown baseline {kind!r}; choose from {BASELINES}")
