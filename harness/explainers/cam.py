"""Gradient-weighted class activation maps at a chosen depth, for CNNs and transformers.

The target layer comes from the model config (25/50/75/100 % depth) or is
named explicitly; token and channels-last activations are reshaped to a grid
by :func:`~harness.explainers.tokens.to_grid`.  The native map is kept
beside the map upsampled to input resolution.

* ``gradcam`` (any depth; ``gradcam_d25``/``_d50``/``_d75`` are registered
  at fixed depths so suites select them by id);
* ``gradcampp``: Grad-CAM++ (Chattopadhyay et al. 2018), closed-form weights;
* ``cam``: the original CAM (Zhou et al. 2016), exact for models whose head
  is global average pooling plus a linear layer (trait ``gap_linear_head``).

Score-CAM and Ablation-CAM, which need one forward pass per channel, live in
:mod:`harness.explainers.cam_perturb`.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from .registry import ExplainerCfg, ExplainerError, RawExplanation, register_explainer
from .tokens import to_grid

CAM_DEPTHS = (25, 50, 75)  # registered as gradcam_d<depth>; 100 is plain ``gradcam``
# CAM reproduces the logits from the pooled map; a larger gap means the head is not GAP + linear.
CAM_HEAD_RTOL = 1e-3


def capture_activation(model, layer: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the model, returning ``(logits, activation of layer)`` with the graph kept."""
    try:
        module = model.module.get_submodule(layer)
    except AttributeError as exc:
        raise ValueError(f"{model.cfg.name}: no layer {layer!r} ({exc})") from None
    store: dict[str, torch.Tensor] = {}

    def hook(_m, _inp, out):
        store["act"] = out[0] if isinstance(out, tuple) else out

    handle = module.register_forward_hook(hook)
    try:
        logits = model.module(x)
    finally:
        handle.remove()
    return logits, store["act"]


def activation_and_gradient(model, layer: str, x: torch.Tensor, target: torch.Tensor):
    """``(A, dy_target/dA)`` of ``layer`` as ``[B, C, h, w]`` grids (one forward, one backward)."""
    with torch.enable_grad():
        # the input needs grad only when the target layer sits before any parameter
        logits, act = capture_activation(model, layer, x.detach().requires_grad_(True))
        score = logits.gather(1, target[:, None]).sum()
        (grad,) = torch.autograd.grad(score, act)
    return to_grid(act.detach(), model.cfg), to_grid(grad, model.cfg)


def upsample(cam: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``[B, h, w]`` native map to the input's ``[B, H, W]`` (bilinear)."""
    return F.interpolate(cam[:, None], size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]


def weighted_map(weights: torch.Tensor, act: torch.Tensor, *, relu: bool = True) -> torch.Tensor:
    """``sum_k w_k A_k`` for ``[B, C]`` weights and ``[B, C, h, w]`` activations."""
    cam = torch.einsum("bc,bchw->bhw", weights, act)
    return torch.relu(cam) if relu else cam


@register_explainer(
    ExplainerCfg(
        name="gradcam",
        title="Grad-CAM",
        group="cam",
        needs_layer=True,
        cost="cheap",
        regression=True,
        rectified=True,
        passes="1 forward + 1 backward",
        defaults=(("depth", 100), ("layer", None)),
    )
)
def gradcam(model, x: torch.Tensor, target: torch.Tensor, *, depth: int, layer: str | None) -> RawExplanation:
    layer = layer or model.cfg.target_layer(depth)
    a, g = activation_and_gradient(model, layer, x, target)
    cam = weighted_map(g.mean(dim=(2, 3)), a)
    return RawExplanation(attributions=upsample(cam, x), native=cam, extras={"layer": layer})


def _gradcam_at(depth: int):
    def fn(model, x: torch.Tensor, target: torch.Tensor, *, layer: str | None) -> RawExplanation:
        return gradcam(model, x, target, depth=depth, layer=layer)

    return functools.update_wrapper(fn, gradcam)


for _depth in CAM_DEPTHS:
    register_explainer(
        ExplainerCfg(
            name=f"gradcam_d{_depth}",
            title=f"Grad-CAM at {_depth} % depth",
            group="cam",
            needs_layer=True,
            cost="cheap",
            rectified=True,
            passes="1 forward + 1 backward",
            defaults=(("layer", None),),
        )
    )(_gradcam_at(_depth))


@register_explainer(
    ExplainerCfg(
        name="gradcampp",
        title="Grad-CAM++",
        group="cam",
        needs_layer=True,
        cost="cheap",
        rectified=True,
        passes="1 forward + 1 backward",
        defaults=(("depth", 100), ("layer", None)),
    )
)
def gradcampp(model, x: torch.Tensor, target: torch.Tensor, *, depth: int, layer: str | None) -> RawExplanation:
    """Weights ``sum_ij alpha_ij relu(g_ij)`` with the closed-form
    ``alpha = g^2 / (2 g^2 + sum(A) g^3)`` (exponential-score approximation)."""
    layer = layer or model.cfg.target_layer(depth)
    a, g = activation_and_gradient(model, layer, x, target)
    g2, g3 = g.pow(2), g.pow(3)
    denom = 2 * g2 + a.sum(dim=(2, 3), keepdim=True) * g3
    alpha = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)), torch.zeros_like(g))
    weights = (alpha * torch.relu(g)).sum(dim=(2, 3))
    cam = weighted_map(weights, a)
    return RawExplanation(attributions=upsample(cam, x), native=cam, extras={"layer": layer})


@register_explainer(
    ExplainerCfg(
        name="cam",
        title="CAM (class activation map; GAP + linear heads)",
        group="cam",
        needs_layer=True,
        requires=("gap_linear_head",),
        cost="cheap",
        passes="1 forward, no backward",
    )
)
def cam(model, x: torch.Tensor, target: torch.Tensor) -> RawExplanation:
    """``sum_k w[target, k] A_k`` at the last target layer, signed (no ReLU).

    The grid mean of the native map equals ``logit - bias`` exactly; the
    call fails if the pooled activation does not reproduce the logits
    (the model's head is not global average pooling plus a linear layer)."""
    layer = model.cfg.target_layer(100)
    head = model.module.get_classifier() if hasattr(model.module, "get_classifier") else None
    if not isinstance(head, torch.nn.Linear):
        raise ExplainerError(f"cam on {model.cfg.name}: classifier is {type(head).__name__}, not nn.Linear")
    with torch.no_grad():
        logits, act = capture_activation(model, layer, x)
        a = to_grid(act, model.cfg).float()
        pooled = head(a.mean(dim=(2, 3)))
        gap = (pooled - logits).abs().max().item()
        if gap > CAM_HEAD_RTOL * max(1.0, logits.abs().max().item()):
            raise ExplainerError(
                f"cam on {model.cfg.name}: linear(mean of {layer}) differs from the logits by {gap:.3g}; "
                "the head is not global average pooling + linear (drop the gap_linear_head trait)"
            )
        native = weighted_map(head.weight[target].float(), a, relu=False)
    logit = logits.gather(1, target[:, None])[:, 0]
    return RawExplanation(
        attributions=upsample(native, x),
        native=native,
        extras={"layer": layer, "logit": logit.tolist(), "head_gap": gap},
    )
