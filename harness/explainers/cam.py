"""Grad-CAM at a chosen depth, for CNNs and transformers alike.

The target layer comes from the model config (25/50/75/100 % depth) or is
named explicitly; token and channels-last activations are reshaped to a grid
by :func:`~harness.explainers.tokens.to_grid`.  The native map is kept
beside the map upsampled to input resolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .registry import ExplainerCfg, RawExplanation, register_explainer
from .tokens import to_grid


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


@register_explainer(ExplainerCfg(
    name="gradcam", title="Grad-CAM", group="cam", needs_layer=True, cost="cheap",
    passes="1 forward + 1 backward", defaults=(("depth", 100), ("layer", None)),
))
def gradcam(model, x: torch.Tensor, target: torch.Tensor, *, depth: int, layer: str | None) -> RawExplanation:
    layer = layer or model.cfg.target_layer(depth)
    with torch.enable_grad():
        # the input needs grad only when the target layer sits before any parameter
        logits, act = capture_activation(model, layer, x.detach().requires_grad_(True))
        score = logits.gather(1, target[:, None]).sum()
        (grad,) = torch.autograd.grad(score, act)
    a, g = to_grid(act.detach(), model.cfg), to_grid(grad, model.cfg)
    weights = g.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * a).sum(dim=1))
    up = F.interpolate(cam[:, None], size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    return RawExplanation(attributions=up, native=cam, extras={"layer": layer})
