"""Attention explainers for uniform-patch ViT/DeiT: attention rollout and
gradient-weighted rollout (Chefer et al.).

timm's ``Attention`` computes softmax attention inside
``F.scaled_dot_product_attention`` when ``fused_attn`` is set, so the
probabilities are never materialised.  :func:`attention_capture` switches
the flag off on the model's attention modules only inside its context,
records each block's attention probabilities (the output of ``attn_drop``,
an identity in eval mode) and restores the flags and hooks on exit, also
after an exception.

Both explainers need token activations (tag ``needs_tokens``): Swin, PVT
and CNNs are deselected.  The map is the prefix-token rows (CLS, and the
distillation token for DeiT-distilled, averaged) over the patch tokens,
reshaped to the patch grid from the model config.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from .cam import upsample
from .registry import ExplainerCfg, ExplainerError, RawExplanation, register_explainer

FUSIONS = ("mean", "max", "min")


def attention_modules(module: nn.Module) -> list[Any]:
    """timm-style attention modules (``qkv``, ``attn_drop``, ``fused_attn``) in forward order."""
    return [
        m
        for m in module.modules()
        if hasattr(m, "fused_attn") and isinstance(getattr(m, "attn_drop", None), nn.Module) and hasattr(m, "qkv")
    ]


@contextmanager
def attention_capture(module: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Context in which every forward appends each block's attention
    probabilities ``[B, heads, N, N]`` to the yielded list (graph kept when
    grad is enabled); ``fused_attn`` is off inside and restored after."""
    own = getattr(module, "harness_attention_capture", None)  # an adapted torchvision/transformers model
    if own is not None:
        with own() as captured:
            yield captured
        return
    mods = attention_modules(module)
    if not mods:
        raise ExplainerError(f"{type(module).__name__}: no timm attention modules (qkv/attn_drop/fused_attn) found")
    flags = [m.fused_attn for m in mods]
    maps: list[torch.Tensor] = []
    handles = []
    try:
        for m in mods:  # timm Attention modules (typed Any: their flags are plain attributes)
            m.fused_attn = False
            handles.append(m.attn_drop.register_forward_hook(lambda _m, _i, out: maps.append(out)))
        yield maps
    finally:
        for h in handles:
            h.remove()
        for m, flag in zip(mods, flags):
            m.fused_attn = flag


def fuse_heads(attn: torch.Tensor, fusion: str) -> torch.Tensor:
    """``[B, heads, N, N]`` -> ``[B, N, N]`` by mean, max or min over heads."""
    if fusion == "mean":
        return attn.mean(dim=1)
    if fusion == "max":
        return attn.amax(dim=1)
    if fusion == "min":
        return attn.amin(dim=1)
    raise ExplainerError(f"head fusion must be one of {FUSIONS}, got {fusion!r}")


def rollout(maps: list[torch.Tensor], *, fusion: str = "mean", discard_ratio: float = 0.0) -> torch.Tensor:
    """Attention rollout (Abnar & Zuidema 2020) of per-block attention maps.

    Per block: fuse heads; zero the ``discard_ratio`` fraction of smallest
    entries (never the first token's self-attention, as in common practice);
    add the identity for the residual path; renormalise rows to sum to 1;
    multiply onto the product so far.  Returns ``[B, N, N]``.
    """
    if not 0.0 <= discard_ratio < 1.0:
        raise ExplainerError(f"discard_ratio must be in [0, 1), got {discard_ratio}")
    b, n = maps[0].shape[0], maps[0].shape[-1]
    eye = torch.eye(n, device=maps[0].device, dtype=torch.float32).expand(b, n, n)
    result = eye.clone()
    for attn in maps:
        fused = fuse_heads(attn.float(), fusion)
        if discard_ratio > 0:
            flat = fused.reshape(b, -1).clone()
            k = int(flat.shape[1] * discard_ratio)
            idx = flat.topk(k, dim=1, largest=False).indices
            keep0 = flat[:, 0].clone()
            flat.scatter_(1, idx, 0.0)
            flat[:, 0] = keep0
            fused = flat.view(b, n, n)
        a = (fused + eye) / 2
        a = a / a.sum(dim=-1, keepdim=True)
        result = a @ result
    return result


def chefer_relevance(maps: list[torch.Tensor], grads: list[torch.Tensor]) -> torch.Tensor:
    """Gradient-weighted rollout (Chefer et al. 2021, generic attention
    explainability): ``R <- R + mean_h[(grad * A)^+] @ R`` from ``R = I``."""
    b, n = maps[0].shape[0], maps[0].shape[-1]
    r = torch.eye(n, device=maps[0].device, dtype=torch.float32).expand(b, n, n).clone()
    for attn, grad in zip(maps, grads):
        cam = (grad.float() * attn.float()).clamp_min(0).mean(dim=1)
        r = r + cam @ r
    return r


def token_map(rel: torch.Tensor, cfg, x: torch.Tensor) -> RawExplanation:
    """Prefix-token rows of a ``[B, N, N]`` relevance over the patch tokens, on the patch grid."""
    p = cfg.num_prefix_tokens
    h, w = cfg.grid_size
    if rel.shape[-1] != p + h * w:
        raise ExplainerError(f"{cfg.name}: {rel.shape[-1]} tokens, expected {p} prefix + {h}x{w} patches")
    native = rel[:, : max(p, 1), p:].mean(dim=1).reshape(-1, h, w)
    return RawExplanation(attributions=upsample(native, x), native=native)


@register_explainer(
    ExplainerCfg(
        name="rollout",
        title="Attention rollout",
        group="attention",
        families=("transformer",),
        needs_tokens=True,
        cost="cheap",
        passes="1 forward, no backward",
        defaults=(("head_fusion", "mean"), ("discard_ratio", 0.9)),
    )
)
def attention_rollout(
    model, x: torch.Tensor, target: torch.Tensor, *, head_fusion: str, discard_ratio: float
) -> RawExplanation:
    """Class-agnostic: the target is ignored (see KNOWN_FAILURES)."""
    with torch.no_grad(), attention_capture(model.module) as maps:
        model.module(x)
    out = token_map(rollout(maps, fusion=head_fusion, discard_ratio=discard_ratio), model.cfg, x)
    out.extras = {"blocks": len(maps)}
    return out


@register_explainer(
    ExplainerCfg(
        name="chefer",
        title="Gradient-weighted attention rollout (Chefer et al.)",
        group="attention",
        families=("transformer",),
        needs_tokens=True,
        cost="cheap",
        passes="1 forward + 1 backward",
    )
)
def chefer(model, x: torch.Tensor, target: torch.Tensor) -> RawExplanation:
    with torch.enable_grad(), attention_capture(model.module) as maps:
        logits = model.module(x)
        score = logits.gather(1, target[:, None]).sum()
        grads = torch.autograd.grad(score, maps)
    out = token_map(chefer_relevance([m.detach() for m in maps], list(grads)), model.cfg, x)
    out.extras = {"blocks": len(maps)}
    return out
