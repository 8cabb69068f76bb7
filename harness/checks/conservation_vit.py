"""LRP relevance conservation for ViT/DeiT: CP-LRP rules, checked layer by layer.

:func:`harness.explainers.lrp_vit.lrp_rules` patches the model so that
gradient x input is LRP: with ``rule="cp"`` (conservative propagation, Ali
et al. 2022) the attention probabilities and the LayerNorm scale are
constants, GELU passes relevance unchanged, and everything else is linear.
So the relevance at any full cut of the network, the sum of activation x
gradient over all tokens and channels, equals the target logit, except for
what the additive constants absorb.

* **biases zeroed**: a copy of the model with every additive constant set to
  zero (biases of linear, convolution and LayerNorm layers, the position
  embedding, the class/distillation/register tokens), the reference logit
  being that copy's.  Relevance must sum to the logit within
  :data:`CONSERVATIVE_RTOL` at every block's output (``blocks.i``), at the
  patch-embedding output (``tokens``) and at the pixels (``input``).
  The forward of the copy differs from the model's; the claim is about the
  rules, as zennit's ``zero_params="bias"`` for the CNNs.
* **biases kept** (the model as trained): the leak, ``(sum - logit) / |logit|``
  per cut, is measured and reported, not asserted.
* the default AttnLRP rules (softmax rule, not conservative by design) are
  measured too, biases kept, at the tokens and the pixels: reported only.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ..explainers.lrp_vit import lrp_rules
from .basic import CheckFailure

# Relative to |logit|, with a floor for logits near zero: float32 rounding plus the identity rule's
# 1e-6 safe division.  Measured worst 3.8e-6 (zoo_deit_distilled, tokens; 4 shapes images per model).
CONSERVATIVE_RTOL = 1e-3
LOGIT_FLOOR = 1e-3  # |logit| below this is treated as this, so rounding does not read as a leak
ADDITIVE = ("bias", "pos_embed", "cls_token", "dist_token", "reg_token")


def supports(cfg) -> bool:
    """Plain token ViTs (a ``blocks`` stack, a patch embedding), judged by layout, not by name."""
    return cfg.family == "transformer" and cfg.layout == "tokens" and bool(cfg.patch_size)


def zero_additive(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with every additive constant (:data:`ADDITIVE`) set to zero."""
    out = copy.deepcopy(module).eval()
    with torch.no_grad():
        for name, p in out.named_parameters():
            if name.rsplit(".", 1)[-1] in ADDITIVE:
                p.zero_()
    return out


def layerwise_relevance(
    module: nn.Module, x: torch.Tensor, target: torch.Tensor, *, rule: str
) -> dict[str, np.ndarray]:
    """Per image: ``logit``; relevance summed at each ``blocks.i`` output, at ``tokens`` and at ``input``."""

    acts: dict[str, torch.Tensor] = {}
    blocks: Any = module.blocks  # timm ViT: an nn.Sequential of blocks
    cuts = {f"blocks.{i}": b for i, b in enumerate(blocks)} | {"tokens": module.patch_embed}
    handles = [m.register_forward_hook(lambda _m, _i, o, k=k: acts.__setitem__(k, o)) for k, m in cuts.items()]
    try:
        with torch.enable_grad(), lrp_rules(module, rule):
            xg = x.detach().requires_grad_(True)
            score = module(xg).gather(1, target[:, None])[:, 0]
            keys = list(acts)
            grads = torch.autograd.grad(score.sum(), [xg] + [acts[k] for k in keys])
    finally:
        for h in handles:
            h.remove()
    out = {"logit": score.detach().double().numpy()}
    for k, a, g in zip(["input"] + keys, [xg] + [acts[k] for k in keys], grads):
        out[k] = (a.detach() * g).flatten(1).sum(1).double().numpy()
    return out


def relative_gaps(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``(sum - logit) / max(|logit|, LOGIT_FLOOR)`` per cut, output side first."""
    logit = sums["logit"]
    scale = np.maximum(np.abs(logit), LOGIT_FLOOR)
    blocks = sorted((k for k in sums if k.startswith("blocks.")), key=lambda k: -int(k.split(".")[1]))
    return {k: (sums[k] - logit) / scale for k in blocks + ["tokens", "input"]}


def check_conservation(
    model, x: torch.Tensor, target: torch.Tensor, *, rule: str = "cp", case: str
) -> dict[str, dict[str, float]]:
    """Biases zeroed: relevance at every block output, the tokens and the pixels sums to the logit.

    Returns the worst relative gap per cut (``zero_bias``, asserted), and for
    the report only the signed worst leak per cut with biases kept
    (``bias_kept``) and the default AttnLRP rules' leak (``attnlrp``).
    """
    __tracebackhide__ = True
    sums = layerwise_relevance(zero_additive(model.module), x, target, rule=rule)
    rel = relative_gaps(sums)
    for k, r in rel.items():
        i = int(np.argmax(np.abs(r)))
        if abs(r[i]) > CONSERVATIVE_RTOL:
            raise CheckFailure(
                f"conservation: relevance at {k} sums to {sums[k][i]:.5g}, logit {sums['logit'][i]:.5g}: "
                f"|gap| = {abs(r[i]):.3g} of max(|logit|, {LOGIT_FLOOR:g}) > {CONSERVATIVE_RTOL:g} (image {i}) "
                f"[lrp_vit rule={rule}, biases zeroed, on {model.label}; {case}]"
            )

    def worst(d):  # signed value of the largest |gap| per cut
        return {k: round(float(v[int(np.argmax(np.abs(v)))]), 6) for k, v in d.items()}

    kept = relative_gaps(layerwise_relevance(model.module, x, target, rule=rule))
    attn = relative_gaps(layerwise_relevance(model.module, x, target, rule="attnlrp"))
    return {
        "zero_bias": {k: round(float(np.max(np.abs(v))), 8) for k, v in rel.items()},
        "bias_kept": worst(kept),
        "attnlrp": worst(attn),
        "rtol": CONSERVATIVE_RTOL,
    }
