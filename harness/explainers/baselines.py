"""Reference inputs for baseline-based explainers, in the model's input space."""

from __future__ import annotations

import torch

from ..images.preprocess import denormalize, normalize
from ..models.config import ModelCfg

BASELINES = ("black", "blur", "noise", "zero")


def _gaussian_blur(unit: torch.Tensor, sigma: float) -> torch.Tensor:
    from torchvision.transforms.functional import gaussian_blur

    k = 2 * int(3 * sigma) + 1
    return gaussian_blur(unit, kernel_size=[k, k], sigma=[sigma, sigma])


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
