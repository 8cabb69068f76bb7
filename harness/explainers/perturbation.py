"""Perturbation explainers: KernelSHAP over SLIC superpixels (Captum)."""

from __future__ import annotations

import numpy as np
import torch

from ..images.preprocess import denormalize
from .baselines import make_baseline
from .registry import ExplainerCfg, RawExplanation, register_explainer

MIN_SEGMENTS = 4


def grid_mask(height: int, width: int, n_segments: int) -> torch.Tensor:
    """A regular grid of about ``n_segments`` cells, as a ``[H, W]`` long mask."""
    side = max(2, round(n_segments**0.5))
    rows = torch.arange(height) * side // height
    cols = torch.arange(width) * side // width
    return rows[:, None] * side + cols[None, :]


def slic_mask(unit_image: torch.Tensor, *, n_segments: int, compactness: float) -> tuple[torch.Tensor, str]:
    """SLIC superpixels of one ``[3, H, W]`` 0..1 image as a ``[1, 1, H, W]`` long mask.

    Flat or pure-noise images can give SLIC fewer than ``MIN_SEGMENTS``
    segments, with which KernelSHAP is undefined; a regular grid is used then,
    and the second return value says which segmentation was used.
    """
    from skimage.segmentation import slic

    img = unit_image.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy().astype(np.float64)
    seg = torch.as_tensor(slic(img, n_segments=n_segments, compactness=compactness, start_label=0))
    kind = "slic"
    if int(seg.max()) + 1 < MIN_SEGMENTS:
        seg, kind = grid_mask(img.shape[0], img.shape[1], n_segments), "grid"
    return seg.long()[None, None], kind


@register_explainer(ExplainerCfg(
    name="kernelshap", title="KernelSHAP over SLIC superpixels", group="perturbation",
    has_baseline=True, stochastic=True, cost="expensive",
    passes="n_samples forward, no backward (200 by default)",
    defaults=(("n_samples", 200), ("n_segments", 50), ("compactness", 10.0), ("baseline", "black"),
              ("perturbations_per_eval", 25), ("seed", 0)),
))
def kernelshap(
    model, x: torch.Tensor, target: torch.Tensor, *, n_samples: int, n_segments: int,
    compactness: float, baseline: str, perturbations_per_eval: int, seed: int,
) -> RawExplanation:
    """One image at a time (each has its own superpixels); seeded per call."""
    from captum.attr import KernelShap

    shap = KernelShap(model.module)
    x0 = make_baseline(x, model.cfg, baseline, seed=seed)
    unit = denormalize(x, model.cfg)
    maps, segments, kinds = [], [], []
    for i in range(x.shape[0]):
        mask, kind = slic_mask(unit[i], n_segments=n_segments, compactness=compactness)
        mask = mask.to(x.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            attr = shap.attribute(
                x[i: i + 1], baselines=x0[i: i + 1], target=target[i: i + 1], feature_mask=mask,
                n_samples=n_samples, perturbations_per_eval=perturbations_per_eval,
            )
        maps.append(attr[0, 0])  # the mask spans channels: every channel holds the same value
        segments.append(int(mask.max()) + 1)
        kinds.append(kind)
    return RawExplanation(
        attributions=torch.stack(maps), extras={"n_superpixels": segments, "segmentation": kinds}
    )
