"""CAM variants weighted by forward passes: Score-CAM and Ablation-CAM.

Both weight each activation channel of the target layer by how the target
score reacts to it, one forward pass per channel and image:

* ``scorecam`` (Wang et al. 2020): the channel, upsampled and min-max
  normalised, masks the input; the weight is the softmax probability of the
  target class on the masked input;
* ``ablationcam`` (Desai & Ramaswamy 2020): the channel is zeroed at the
  target layer; the weight is ``(y - y_ablated) / |y|``.

To keep the cost bounded on wide layers (1280 channels for
EfficientNet-Lite), only the ``n_channels`` channels with the largest mean
activation are scored (``n_channels=0``: all of them); the others get
weight 0.  Channels are batched ``batch_size`` at a time.
"""

from __future__ import annotations

import torch

from .cam import capture_activation, upsample, weighted_map
from .registry import ExplainerCfg, RawExplanation, register_explainer
from .tokens import to_grid


def top_channels(act: torch.Tensor, n_channels: int) -> torch.Tensor:
    """Indices of the ``n_channels`` channels of one ``[C, h, w]`` grid with the largest mean."""
    c = act.shape[0]
    if n_channels <= 0 or n_channels >= c:
        return torch.arange(c, device=act.device)
    return act.mean(dim=(1, 2)).topk(n_channels).indices


def _minmax(maps: torch.Tensor) -> torch.Tensor:
    """Per-map min-max normalisation of ``[K, H, W]`` to 0..1 (constant maps become 0)."""
    flat = maps.flatten(1)
    lo, hi = flat.min(1).values[:, None, None], flat.max(1).values[:, None, None]
    return torch.where(hi > lo, (maps - lo) / (hi - lo).clamp_min(1e-12), torch.zeros_like(maps))


@register_explainer(
    ExplainerCfg(
        name="scorecam",
        title="Score-CAM",
        group="cam",
        needs_layer=True,
        cost="moderate",
        rectified=True,
        passes="1 + n_channels forward, no backward (32 by default)",
        defaults=(("depth", 100), ("layer", None), ("n_channels", 32), ("batch_size", 16)),
    )
)
def scorecam(
    model, x: torch.Tensor, target: torch.Tensor, *, depth: int, layer: str | None, n_channels: int, batch_size: int
) -> RawExplanation:
    layer = layer or model.cfg.target_layer(depth)
    with torch.no_grad():
        _, act = capture_activation(model, layer, x)
        a = to_grid(act, model.cfg).float()
        weights = torch.zeros(a.shape[:2], device=a.device)
        for i in range(x.shape[0]):
            chans = top_channels(a[i], n_channels)
            masks = _minmax(upsample(a[i, chans], x[i : i + 1].expand(len(chans), -1, -1, -1)))
            for s in range(0, len(chans), batch_size):
                m = masks[s : s + batch_size, None]
                probs = model.module(x[i : i + 1] * m).softmax(dim=1)[:, target[i]]
                weights[i, chans[s : s + batch_size]] = probs.float()
        native = weighted_map(weights, a)
    return RawExplanation(attributions=upsample(native, x), native=native, extras={"layer": layer})


def _channel_mask(keep: torch.Tensor, out: torch.Tensor, cfg) -> torch.Tensor:
    """``[K, C]`` 0/1 channel mask shaped to broadcast over the layer's raw output."""
    if out.ndim == 3:  # tokens [K, N, C]: prefix tokens (CLS, distillation) keep every channel
        full = torch.ones(keep.shape[0], out.shape[1], keep.shape[1], device=out.device, dtype=out.dtype)
        full[:, cfg.num_prefix_tokens :, :] = keep[:, None, :]
        return full
    if cfg.layout == "nhwc":
        return keep[:, None, None, :]
    return keep[:, :, None, None]


@register_explainer(
    ExplainerCfg(
        name="ablationcam",
        title="Ablation-CAM",
        group="cam",
        needs_layer=True,
        cost="moderate",
        rectified=True,
        passes="1 + n_channels forward, no backward (32 by default)",
        defaults=(("depth", 100), ("layer", None), ("n_channels", 32), ("batch_size", 16)),
    )
)
def ablationcam(
    model, x: torch.Tensor, target: torch.Tensor, *, depth: int, layer: str | None, n_channels: int, batch_size: int
) -> RawExplanation:
    layer = layer or model.cfg.target_layer(depth)
    module = model.module.get_submodule(layer)
    with torch.no_grad():
        logits, act = capture_activation(model, layer, x)
        a = to_grid(act, model.cfg).float()
        y = logits.gather(1, target[:, None])[:, 0].float()
        weights = torch.zeros(a.shape[:2], device=a.device)
        state: dict[str, torch.Tensor] = {}

        def ablate(_m, _inp, out):
            raw = out[0] if isinstance(out, tuple) else out
            raw = raw * _channel_mask(state["keep"].to(raw.dtype), raw, model.cfg)
            return (raw, *out[1:]) if isinstance(out, tuple) else raw

        handle = module.register_forward_hook(ablate)
        try:
            for i in range(x.shape[0]):
                chans = top_channels(a[i], n_channels)
                for s in range(0, len(chans), batch_size):
                    part = chans[s : s + batch_size]
                    keep = torch.ones(len(part), a.shape[1], device=x.device)
                    keep[torch.arange(len(part)), part] = 0
                    state["keep"] = keep
                    ablated = model.module(x[i : i + 1].expand(len(part), -1, -1, -1))[:, target[i]].float()
                    weights[i, part] = (y[i] - ablated) / y[i].abs().clamp_min(1e-6)
        finally:
            handle.remove()
        native = weighted_map(weights, a)
    return RawExplanation(attributions=upsample(native, x), native=native, extras={"layer": layer})
