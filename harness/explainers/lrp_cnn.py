"""LRP for CNNs with zennit composites and canonizers.

Batch norms are merged into the preceding convolutions
(``SequentialMergeBatchNorm``); timm's ResNet ``BasicBlock`` and
``Bottleneck`` residual additions are rewritten as zennit ``Sum`` modules
(:class:`TimmResNetCanonizer`), so relevance splits proportionally between
the branches instead of being copied.  Supported models carry the trait
``timm_resnet_blocks``; others are deselected.

Composites: ``epsilon_plus_flat`` (default; flat rule in the first layer,
z+ in the other convolutions, epsilon in dense layers) and
``epsilon_alpha2_beta1_flat``.  The output relevance is the target logit,
so ``extras`` carry per image the ``logit`` and the ``relevance_sum`` at
the pixels (the map is the relevance summed over channels).
"""

from __future__ import annotations

import torch

from .registry import ExplainerCfg, ExplainerError, RawExplanation, register_explainer

COMPOSITES = ("epsilon_plus_flat", "epsilon_alpha2_beta1_flat")


def _timm_block_forward(self, x: torch.Tensor) -> torch.Tensor:
    """timm ``BasicBlock``/``Bottleneck`` forward with the residual sum as a ``Sum`` module."""
    shortcut = x
    out = self.drop_block(self.bn1(self.conv1(x))) if not hasattr(self, "conv3") else self.bn1(self.conv1(x))
    out = self.act1(out)
    if hasattr(self, "conv3"):  # Bottleneck
        out = self.aa(self.act2(self.drop_block(self.bn2(self.conv2(out)))))
        out = self.bn3(self.conv3(out))
        last_act = self.act3
    else:  # BasicBlock
        out = self.bn2(self.conv2(self.aa(out)))
        last_act = self.act2
    if self.se is not None:
        out = self.se(out)
    if self.drop_path is not None:
        out = self.drop_path(out)
    if self.downsample is not None:
        shortcut = self.downsample(shortcut)
    return last_act(self.canonizer_sum(torch.stack([shortcut, out], dim=-1)))


def timm_resnet_canonizer():
    """A zennit ``AttributeCanonizer`` for timm's ResNet blocks."""
    from timm.models.resnet import BasicBlock, Bottleneck  # lazy: timm takes ~3 s to import
    from zennit.canonizers import AttributeCanonizer  # lazy: zennit takes ~2 s to import
    from zennit.layer import Sum  # lazy: zennit takes ~2 s to import

    def attribute_map(_name, module):
        if type(module) in (BasicBlock, Bottleneck):
            return {"forward": _timm_block_forward.__get__(module), "canonizer_sum": Sum()}
        return None

    class TimmResNetCanonizer(AttributeCanonizer):
        def __init__(self):
            super().__init__(attribute_map)

    return TimmResNetCanonizer()


def make_composite(name: str):
    from zennit.canonizers import SequentialMergeBatchNorm  # lazy: zennit takes ~2 s to import
    from zennit.composites import EpsilonAlpha2Beta1Flat, EpsilonPlusFlat  # lazy: zennit takes ~2 s to import

    canonizers = [SequentialMergeBatchNorm(), timm_resnet_canonizer()]
    if name == "epsilon_plus_flat":
        return EpsilonPlusFlat(canonizers=canonizers)
    if name == "epsilon_alpha2_beta1_flat":
        return EpsilonAlpha2Beta1Flat(canonizers=canonizers)
    raise ExplainerError(f"lrp_cnn: composite must be one of {COMPOSITES}, got {name!r}")


def _inplace_off(module: torch.nn.Module) -> list[torch.nn.Module]:
    """Turn in-place activations off (zennit's backward hooks need the outputs); returns what to restore."""
    changed = [m for m in module.modules() if getattr(m, "inplace", False) is True]
    for m in changed:
        setattr(m, "inplace", False)  # noqa: B010  (nn.Module attributes are typed as tensors)
    return changed


@register_explainer(
    ExplainerCfg(
        name="lrp_cnn",
        title="CNN LRP (zennit composite, ResNet canonizers)",
        group="lrp",
        families=("cnn",),
        requires=("timm_resnet_blocks",),
        multiplies_by_inputs=True,
        cost="cheap",
        passes="1 forward + 1 backward",
        defaults=(("composite", "epsilon_plus_flat"),),
        dists=("zennit",),
    )
)
def lrp_cnn(model, x: torch.Tensor, target: torch.Tensor, *, composite: str) -> RawExplanation:
    from zennit.attribution import Gradient  # lazy: zennit takes ~2 s to import

    comp = make_composite(composite)
    changed = _inplace_off(model.module)
    try:
        with torch.enable_grad(), Gradient(model=model.module, composite=comp) as attributor:
            xg = x.detach().requires_grad_(True)
            # the output relevance is the target logit, zero elsewhere
            idx = target[:, None]
            logits, rel = attributor(xg, lambda out: torch.zeros_like(out).scatter(1, idx, out.gather(1, idx)))
    finally:
        for m in changed:
            setattr(m, "inplace", True)  # noqa: B010
    rel = rel.detach().sum(dim=1)
    logit = logits.detach().gather(1, target[:, None])[:, 0]
    return RawExplanation(
        attributions=rel,
        extras={
            "composite": composite,
            "logit": logit.tolist(),
            "relevance_sum": rel.flatten(1).sum(1).tolist(),
        },
    )
