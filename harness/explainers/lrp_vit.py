"""Conservative LRP for timm ViT/DeiT (AttnLRP, Achtibat et al. 2024), native.

Relevance is computed as gradient x input in one backward pass, after the
model's modules are patched, only inside :func:`lrp_rules`, so that the
gradient implements the LRP rules:

* linear layers and residual sums: plain gradient (epsilon-LRP, biases absorb);
* LayerNorm: the standard deviation is detached (identity rule for the
  normalisation; the mean subtraction is linear);
* GELU and other elementwise activations in the MLP: identity rule
  (relevance passes unchanged: gradient ``act(x) / x``);
* the two attention matmuls ``q k^T`` and ``A v``: uniform rule, half the
  relevance to each factor;
* softmax: gradient x input (AttnLRP's softmax rule).  With ``rule="cp"``
  the attention probabilities are treated as constants instead (CP-LRP,
  Ali et al. 2022): all relevance goes to the values.

The forward values are unchanged (identical logits up to float rounding:
``0.5 z + 0.5 z == z`` exactly).  The map is the input relevance summed over
channels; ``extras`` carry what conservation checks need: per image the
target ``logit``, ``relevance_sum`` at the pixels, and
``token_relevance_sum`` at the patch-embedding output.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from .attention import attention_modules
from .registry import ExplainerCfg, ExplainerError, RawExplanation, register_explainer

RULES = ("attnlrp", "cp")
ELEMENTWISE = (nn.GELU, nn.SiLU, nn.ReLU, nn.Tanh)


def identity_rule(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Value ``y``, gradient ``y / x`` with respect to ``x``: relevance ``x * g`` passes unchanged."""
    safe = torch.where(x.abs() < 1e-6, torch.full_like(x, 1e-6) * torch.where(x < 0, -1.0, 1.0), x)
    t = x * (y / safe).detach()
    return y.detach() + (t - t.detach())


def uniform_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` whose gradient x input gives each factor half the relevance."""
    return 0.5 * (a @ b.detach()) + 0.5 * (a.detach() @ b)


def _layer_norm(self, x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=-1, keepdim=True)
    std = (x.var(dim=-1, keepdim=True, unbiased=False) + self.eps).sqrt().detach()
    y = (x - mean) / std
    return y * self.weight + self.bias if self.weight is not None else y


def _activation(self, x: torch.Tensor) -> torch.Tensor:
    return identity_rule(x, type(self).forward(self, x))


def _attention(self, x: torch.Tensor, attn_mask=None, is_causal: bool = False) -> torch.Tensor:
    if attn_mask is not None or is_causal or getattr(self, "gate", None) is not None:
        raise ExplainerError("lrp_vit: masked, causal or gated attention is not supported")
    b, n, _ = x.shape
    qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    q, k = self.q_norm(q), self.k_norm(k)
    if self._lrp_rule == "cp":
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1).detach()
        out = self.attn_drop(attn) @ v
    else:
        attn = uniform_matmul(q * self.scale, k.transpose(-2, -1)).softmax(dim=-1)
        out = uniform_matmul(self.attn_drop(attn), v)
    out = out.transpose(1, 2).reshape(b, n, -1)
    return self.proj_drop(self.proj(self.norm(out)))


@contextmanager
def lrp_rules(module: nn.Module, rule: str = "attnlrp") -> Iterator[None]:
    """Patch LayerNorms, activations and timm attention modules of ``module``
    to the LRP rules; restore every ``forward`` on exit, also on exceptions."""
    if rule not in RULES:
        raise ExplainerError(f"lrp_vit: rule must be one of {RULES}, got {rule!r}")
    attns = attention_modules(module)
    if not attns:
        raise ExplainerError(f"lrp_vit: {type(module).__name__} has no timm attention modules")
    patched: list[tuple[nn.Module, Any]] = []

    def patch(m: nn.Module, fn) -> None:
        patched.append((m, m.__dict__.get("forward")))
        m.forward = types.MethodType(fn, m)

    try:
        for m in module.modules():
            if isinstance(m, nn.LayerNorm):
                patch(m, _layer_norm)
            elif isinstance(m, ELEMENTWISE):
                patch(m, _activation)
        for m in attns:
            m._lrp_rule = rule
            patch(m, _attention)
        yield
    finally:
        for m, old in reversed(patched):
            if old is None:
                m.__dict__.pop("forward", None)
            else:
                m.forward = old
        for m in attns:
            m.__dict__.pop("_lrp_rule", None)


@register_explainer(
    ExplainerCfg(
        name="lrp_vit",
        title="Transformer LRP (AttnLRP rules, gradient x input)",
        group="lrp",
        families=("transformer",),
        needs_tokens=True,
        multiplies_by_inputs=True,
        cost="cheap",
        passes="1 forward + 1 backward",
        defaults=(("rule", "attnlrp"),),
    )
)
def lrp_vit(model, x: torch.Tensor, target: torch.Tensor, *, rule: str) -> RawExplanation:
    embed = getattr(model.module, "patch_embed", None)
    if embed is None:
        raise ExplainerError(f"lrp_vit on {model.cfg.name}: no patch_embed module")
    store: dict[str, torch.Tensor] = {}
    handle = embed.register_forward_hook(lambda _m, _i, out: store.__setitem__("tokens", out))
    try:
        with torch.enable_grad(), lrp_rules(model.module, rule):
            xg = x.detach().requires_grad_(True)
            logits = model.module(xg)
            score = logits.gather(1, target[:, None])[:, 0]
            gx, gt = torch.autograd.grad(score.sum(), [xg, store["tokens"]])
    finally:
        handle.remove()
    rel = (xg.detach() * gx).sum(dim=1)
    tokens = (store["tokens"].detach() * gt).flatten(1).sum(1)
    return RawExplanation(
        attributions=rel,
        extras={
            "rule": rule,
            "logit": score.detach().tolist(),
            "relevance_sum": rel.flatten(1).sum(1).tolist(),
            "token_relevance_sum": tokens.tolist(),
        },
    )


__all__ = ["identity_rule", "lrp_rules", "lrp_vit", "uniform_matmul"]
