"""Noise-averaged explainers: SmoothGrad as a wrapper around any explainer, and GradientSHAP.

:func:`noise_tunnel` composes around any registered explainer, as
Captum's wrappers do: it averages the wrapped method's maps over ``n_samples`` copies
of the input with Gaussian noise of ``stdev`` times each image's value range
(Smilkov et al. 2017).  ``smoothgrad`` registers it around a ``base``
gradient method (``saliency`` by default; ``ig`` gives SmoothGrad-IG).
"""

from __future__ import annotations

import numpy as np
import torch

from .baselines import make_baseline
from .registry import ExplainerCfg, ExplainerError, RawExplanation, create_explainer, register_explainer


def noise_tunnel(
    model, x: torch.Tensor, target: torch.Tensor, explainer, *, n_samples: int, stdev: float, seed: int
) -> torch.Tensor:
    """Mean ``[B, H, W]`` map of ``explainer`` (an :class:`~.registry.Explainer`)
    over ``n_samples`` noisy copies of ``x``; noise is drawn from ``seed``."""
    if n_samples < 1:
        raise ExplainerError(f"noise tunnel: n_samples must be >= 1, got {n_samples}")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    span = (x.flatten(1).amax(1) - x.flatten(1).amin(1)).view(-1, 1, 1, 1)
    total = torch.zeros(x.shape[0], x.shape[-2], x.shape[-1], device=x.device)
    for _ in range(n_samples):
        noise = torch.randn(x.shape, generator=gen).to(x.device, x.dtype) * stdev * span
        raw = explainer.fn(model, x + noise, target, **explainer.param_dict)
        total += raw.attributions.detach().float()
    return total / n_samples


@register_explainer(
    ExplainerCfg(
        name="smoothgrad",
        title="SmoothGrad (noise tunnel around a gradient method)",
        group="gradient",
        stochastic=True,
        cost="moderate",
        passes="n_samples x the base method's passes (10 x (1 forward + 1 backward) with saliency)",
        defaults=(("base", "saliency"), ("n_samples", 10), ("stdev", 0.15), ("seed", 0)),
    )
)
def smoothgrad(
    model, x: torch.Tensor, target: torch.Tensor, *, base: str, n_samples: int, stdev: float, seed: int
) -> RawExplanation:
    inner = create_explainer(base)
    if inner.cfg.group != "gradient" or inner.cfg.stochastic:
        raise ExplainerError(f"smoothgrad: base must be a deterministic gradient method, got {base!r}")
    attr = noise_tunnel(model, x, target, inner, n_samples=n_samples, stdev=stdev, seed=seed)
    return RawExplanation(attributions=attr, extras={"base": base})


#: Rows of GradientSHAP's expanded batch (images x ``n_samples``) that go through the
#: model with gradients at once.  Captum runs all of them together: 4 images x 16
#: samples of a 240 px EfficientNet-Lite1 held 8.3 GB.  Chunking happens after
#: Captum has drawn every random number, so the maps are Captum's.
_GRADIENT_ROWS = 8


def chunked_gradients(rows: int):
    """Captum's ``compute_gradients``, taken ``rows`` inputs at a time.

    Set as an attribution object's ``gradient_func`` (Captum's ``GradientShap``
    hands its own to the inner ``InputBaselineXGradient``): the noise, the
    baselines and the interpolation points are drawn exactly as before, only
    the forward and backward passes are split, so peak memory is bounded by
    ``rows`` instead of the whole expanded batch.  Per-row gradients do not
    depend on the other rows of the batch (no batch statistics in eval mode).
    """
    from captum._utils.gradient import compute_gradients  # lazy: captum takes ~1 s to import

    def gradient_func(forward_fn, inputs, target_ind=None, additional_forward_args=None):
        n = inputs[0].shape[0]
        if n <= rows or additional_forward_args is not None:
            return compute_gradients(forward_fn, inputs, target_ind, additional_forward_args)
        parts = []
        for start in range(0, n, rows):
            rows_here = slice(start, start + rows)
            chunk = tuple(t[rows_here].detach().requires_grad_() for t in inputs)
            parts.append(compute_gradients(forward_fn, chunk, _target_rows(target_ind, n, rows_here)))
        return tuple(torch.cat(grads) for grads in zip(*parts))

    return gradient_func


def _target_rows(target, n: int, rows: slice):
    """The part of a Captum target that belongs to ``rows`` of an ``n``-row batch
    (a per-row tensor or list is sliced; one target for all rows is kept)."""
    if isinstance(target, torch.Tensor) and target.dim() > 0 and target.shape[0] == n:
        return target[rows]
    if isinstance(target, list) and len(target) == n:
        return target[rows]
    return target


@register_explainer(
    ExplainerCfg(
        name="gradientshap",
        title="GradientSHAP (sum over channels)",
        group="gradient",
        multiplies_by_inputs=True,
        has_baseline=True,
        stochastic=True,
        cost="moderate",
        passes="n_samples forward + n_samples backward (16 by default)",
        defaults=(("n_samples", 16), ("stdev", 0.1), ("baselines", "black,noise"), ("seed", 0)),
    )
)
def gradientshap(
    model, x: torch.Tensor, target: torch.Tensor, *, n_samples: int, stdev: float, baselines: str, seed: int
) -> RawExplanation:
    """Captum's ``GradientShap``: expected gradients x (input - baseline) over
    random points between the input (with noise ``stdev``) and baselines
    drawn from ``baselines`` (comma-separated kinds of :func:`make_baseline`
    that do not depend on the image); channels are summed, as for ``ig``."""
    from captum.attr import GradientShap  # lazy: captum takes ~1 s to import

    kinds = [k.strip() for k in baselines.split(",") if k.strip()]
    if not kinds or "blur" in kinds:
        raise ExplainerError(f"gradientshap: baselines must be image-independent kinds, got {baselines!r}")
    x0 = torch.cat([make_baseline(x[:1], model.cfg, kind, seed=seed) for kind in kinds])
    np_state = np.random.get_state()  # Captum draws the baselines with numpy's global generator
    try:
        np.random.seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            shap = GradientShap(model.module)
            shap.gradient_func = chunked_gradients(_GRADIENT_ROWS)
            attr = shap.attribute(x, baselines=x0, n_samples=n_samples, stdevs=stdev, target=target)
    finally:
        np.random.set_state(np_state)
    return RawExplanation(attributions=attr.sum(dim=1))
