"""LRP relevance conservation for CNNs, with zennit composites and canonizers.

zennit propagates relevance as the gradient: at any tensor ``h`` the
"gradient" a backward pass leaves there *is* the relevance at ``h``.  So a
tensor hook on the output of each of the config's four target layers
(25/50/75/100 % depth, each a full cut of the backbone) reads the relevance
that crosses that cut, and the input's gradient is the pixel relevance.

* **conservative rules** (``zero_params="bias"``: the biases take no share):
  the relevance at every cut and at the pixels sums to the target logit,
  within :data:`CONSERVATIVE_RTOL`.
* **biases kept** (zennit's default): relevance leaks into (or, for
  negative biases, out of) the biases at every layer; the leak at the pixels
  is measured and reported beside the conservative result, not asserted.

Canonizers: batch norms merged into the preceding convolution where zennit
finds the pair, and timm's ResNet residual sums rewritten as zennit ``Sum``
modules (:func:`harness.explainers.lrp_cnn.timm_resnet_canonizer`).  Models
whose residual structure no canonizer covers are left out by
:func:`supports` (architecture traits, not model names).
"""

from __future__ import annotations

import fnmatch

import numpy as np
import torch

from ..explainers.lrp_cnn import timm_resnet_canonizer
from .basic import CheckFailure

# Relative to |logit|, at every cut and at the pixels.  z+ drops the relevance of a neuron
# whose positive contributions are all zero; measured worst 0.028 (zoo_resnet, 25 % depth).
CONSERVATIVE_RTOL = 0.05
# Conservative with biases zeroed.  alpha2-beta1 is not: it gains relevance where a
# neuron has no negative part (measured +12 % on zoo_resnet).
COMPOSITES = ("epsilon_plus_flat",)
# Architectures whose every residual/branch the canonizers cover (concatenation conserves by itself).
CANONIZED_ARCHS = ("resnet*", "resnext*", "densenet*")


def supports(cfg) -> bool:
    return cfg.family == "cnn" and any(fnmatch.fnmatch(cfg.arch, p) for p in CANONIZED_ARCHS)


def make_composite(name: str, *, zero_bias: bool):
    from zennit.canonizers import SequentialMergeBatchNorm  # lazy: zennit takes ~2 s to import
    from zennit.composites import EpsilonAlpha2Beta1Flat, EpsilonPlusFlat  # lazy: zennit takes ~2 s to import

    kind = {"epsilon_plus_flat": EpsilonPlusFlat, "epsilon_alpha2_beta1_flat": EpsilonAlpha2Beta1Flat}[name]
    return kind(
        zero_params="bias" if zero_bias else None, canonizers=[SequentialMergeBatchNorm(), timm_resnet_canonizer()]
    )


def layerwise_relevance(
    model, x: torch.Tensor, target: torch.Tensor, *, composite: str, zero_bias: bool
) -> dict[str, np.ndarray]:
    """Per image: ``logit``, relevance summed at each target layer's output (``25%`` ... ``100%``), ``input``."""
    from zennit.attribution import Gradient  # lazy: zennit takes ~2 s to import

    cfg = model.cfg
    grads: dict[str, torch.Tensor] = {}
    acts: dict[str, torch.Tensor] = {}
    handles = []
    changed = [m for m in model.module.modules() if getattr(m, "inplace", False) is True]
    for m in changed:
        m.inplace = False
    try:
        with (
            torch.enable_grad(),
            Gradient(model=model.module, composite=make_composite(composite, zero_bias=zero_bias)) as attributor,
        ):
            for depth, layer in zip((25, 50, 75, 100), cfg.target_layers):

                def hook(_m, _i, out, key=f"{depth}%"):
                    acts[key] = out
                    out.register_hook(lambda g, key=key: grads.__setitem__(key, g))

                handles.append(model.module.get_submodule(layer).register_forward_hook(hook))
            idx = target[:, None]
            logits, rel = attributor(
                x.detach().requires_grad_(True), lambda out: torch.zeros_like(out).scatter(1, idx, out.gather(1, idx))
            )
    finally:
        for h in handles:
            h.remove()
        for m in changed:
            m.inplace = True
    out = {"logit": logits.detach().gather(1, idx)[:, 0].double().numpy()}
    for key in (f"{d}%" for d in (25, 50, 75, 100)):
        out[key] = grads[key].detach().flatten(1).sum(1).double().numpy()
    out["input"] = rel.detach().flatten(1).sum(1).double().numpy()
    return out


def check_conservation(
    model, x: torch.Tensor, target: torch.Tensor, *, composite: str = "epsilon_plus_flat", case: str
) -> dict[str, float]:
    """Conservative rules (biases zeroed): relevance at each cut and at the pixels sums to the logit.

    Returns the worst relative gap per cut, and, for the report only, the
    relative leak measured at the pixels when the biases are kept.
    """
    __tracebackhide__ = True
    sums = layerwise_relevance(model, x, target, composite=composite, zero_bias=True)
    logit = sums["logit"]
    scale = np.maximum(np.abs(logit), 1e-6)
    cuts = ["100%", "75%", "50%", "25%", "input"]
    rel = {k: (sums[k] - logit) / scale for k in cuts}
    for k in cuts:
        i = int(np.argmax(np.abs(rel[k])))
        if abs(rel[k][i]) > CONSERVATIVE_RTOL:
            raise CheckFailure(
                f"conservation: relevance at {k if k == 'input' else k + ' depth'} sums to {sums[k][i]:.4g}, "
                f"logit {logit[i]:.4g}: |gap| = {abs(rel[k][i]):.3g} of |logit| > {CONSERVATIVE_RTOL} "
                f"(image {i}) [lrp {composite}, biases zeroed, on {model.label}; {case}]"
            )
    kept = layerwise_relevance(model, x, target, composite=composite, zero_bias=False)
    out = {k: round(float(np.max(np.abs(v))), 6) for k, v in rel.items()}
    out["bias_leak_input"] = round(float(np.max(np.abs((kept["input"] - logit) / scale))), 6)
    return out
