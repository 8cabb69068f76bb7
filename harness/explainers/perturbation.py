"""Perturbation explainers (Captum): KernelSHAP and LIME over SLIC superpixels, Occlusion."""

from __future__ import annotations

import numpy as np
import torch
from skimage.segmentation import slic

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

    img = unit_image.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy().astype(np.float64)
    seg = torch.as_tensor(slic(img, n_segments=n_segments, compactness=compactness, start_label=0))
    kind = "slic"
    if int(seg.max()) + 1 < MIN_SEGMENTS:
        seg, kind = grid_mask(img.shape[0], img.shape[1], n_segments), "grid"
    return seg.long()[None, None], kind


def superpixel_attribution(
    method,
    model,
    x: torch.Tensor,
    target: torch.Tensor,
    *,
    n_samples: int,
    n_segments: int,
    compactness: float,
    baseline: str,
    perturbations_per_eval: int,
    seed: int,
) -> RawExplanation:
    """Run a Captum perturbation ``method`` (KernelShap, Lime) one image at a
    time over that image's SLIC superpixels, seeded per call."""
    x0 = make_baseline(x, model.cfg, baseline, seed=seed)
    unit = denormalize(x, model.cfg)
    maps, segments, kinds = [], [], []
    for i in range(x.shape[0]):
        mask, kind = slic_mask(unit[i], n_segments=n_segments, compactness=compactness)
        mask = mask.to(x.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            attr = method.attribute(
                x[i : i + 1],
                baselines=x0[i : i + 1],
                target=target[i : i + 1],
                feature_mask=mask,
                n_samples=n_samples,
                perturbations_per_eval=perturbations_per_eval,
            )
        maps.append(attr[0, 0].float())  # the mask spans channels: every channel holds the same value
        segments.append(int(mask.max()) + 1)
        kinds.append(kind)
    return RawExplanation(attributions=torch.stack(maps), extras={"n_superpixels": segments, "segmentation": kinds})


@register_explainer(
    ExplainerCfg(
        name="kernelshap",
        title="KernelSHAP over SLIC superpixels",
        group="perturbation",
        has_baseline=True,
        stochastic=True,
        cost="expensive",
        regression=True,
        passes="n_samples forward, no backward (200 by default)",
        defaults=(
            ("n_samples", 200),
            ("n_segments", 50),
            ("compactness", 10.0),
            ("baseline", "black"),
            ("perturbations_per_eval", 25),
            ("seed", 0),
        ),
    )
)
def kernelshap(
    model,
    x: torch.Tensor,
    target: torch.Tensor,
    *,
    n_samples: int,
    n_segments: int,
    compactness: float,
    baseline: str,
    perturbations_per_eval: int,
    seed: int,
) -> RawExplanation:
    """One image at a time (each has its own superpixels); seeded per call."""
    from captum.attr import KernelShap  # lazy: captum takes ~1 s to import

    return superpixel_attribution(
        KernelShap(model.module),
        model,
        x,
        target,
        n_samples=n_samples,
        n_segments=n_segments,
        compactness=compactness,
        baseline=baseline,
        perturbations_per_eval=perturbations_per_eval,
        seed=seed,
    )


@register_explainer(
    ExplainerCfg(
        name="lime",
        title="LIME over SLIC superpixels (ridge surrogate)",
        group="perturbation",
        has_baseline=True,
        stochastic=True,
        cost="expensive",
        passes="n_samples forward, no backward (100 by default)",
        defaults=(
            ("n_samples", 100),
            ("n_segments", 50),
            ("compactness", 10.0),
            ("baseline", "black"),
            ("perturbations_per_eval", 25),
            ("kernel_width", 0.75),
            ("ridge_alpha", 1.0),
            ("seed", 0),
        ),
    )
)
def lime(
    model,
    x: torch.Tensor,
    target: torch.Tensor,
    *,
    n_samples: int,
    n_segments: int,
    compactness: float,
    baseline: str,
    perturbations_per_eval: int,
    kernel_width: float,
    ridge_alpha: float,
    seed: int,
) -> RawExplanation:
    """Captum's ``Lime``: random superpixel subsets replaced by the baseline,
    weighted by an exponential kernel on cosine distance in the binary
    interpretable space, fitted with ridge regression (Lasso, Captum's
    default, often zeroes every superpixel at this sample count)."""
    from captum._utils.models.linear_model import SkLearnRidge  # lazy: captum takes ~1 s to import
    from captum.attr import Lime  # lazy: captum takes ~1 s to import
    from captum.attr._core.lime import get_exp_kernel_similarity_function  # lazy: captum takes ~1 s to import

    explainer = Lime(
        model.module,
        interpretable_model=SkLearnRidge(alpha=ridge_alpha),
        similarity_func=get_exp_kernel_similarity_function("cosine", kernel_width=kernel_width),
    )
    return superpixel_attribution(
        explainer,
        model,
        x,
        target,
        n_samples=n_samples,
        n_segments=n_segments,
        compactness=compactness,
        baseline=baseline,
        perturbations_per_eval=perturbations_per_eval,
        seed=seed,
    )


@register_explainer(
    ExplainerCfg(
        name="occlusion",
        title="Occlusion (sliding square patch)",
        group="perturbation",
        has_baseline=True,
        cost="moderate",
        passes="1 + n_windows forward, no backward; n_windows = (floor((side - window) / stride) + 1)^2 "
        "(1 + 49 at the default window = stride = side // 7)",
        # 4 occluded copies of the batch per forward pass: on 4 images of a 224 px Lite0, 16 took 18.4 s and
        # 2.43 GB, 4 takes 11.7 s and 1.37 GB, the same maps bit for bit (also on the zoo ResNet and ViT-p16)
        defaults=(("window", 0), ("stride", 0), ("baseline", "black"), ("perturbations_per_eval", 4)),
    )
)
def occlusion(
    model,
    x: torch.Tensor,
    target: torch.Tensor,
    *,
    window: int,
    stride: int,
    baseline: str,
    perturbations_per_eval: int,
) -> RawExplanation:
    """Drop of the target score when a ``window`` square (all channels) is set
    to the baseline, averaged over the windows covering each pixel.
    ``window=0`` means ``side // 7``; ``stride=0`` means ``window``."""
    from captum.attr import Occlusion  # lazy: captum takes ~1 s to import

    side = x.shape[-1]
    window = window or max(1, side // 7)
    stride = stride or window
    attr = Occlusion(model.module).attribute(
        x,
        sliding_window_shapes=(x.shape[1], window, window),
        strides=(x.shape[1], stride, stride),
        baselines=make_baseline(x, model.cfg, baseline),
        target=target,
        perturbations_per_eval=perturbations_per_eval,
    )
    return RawExplanation(attributions=attr.mean(dim=1), extras={"window": window, "stride": stride})
