"""``ModelCfg`` from timm itself: :func:`from_timm` (also ``ModelCfg.from_timm``).

Everything a hand-written :class:`~harness.models.config.ModelCfg` holds is
read from timm, offline (the architecture is built on the ``meta`` device,
no weights, no hub):

* input size, mean/std, crop and interpolation from the pretrained config
  of the tag (``resnet50.a1_in1k``; the default tag when none is given);
* Grad-CAM target layers at 25/50/75/100 % depth and their strides from
  ``feature_info``: the stem (stride < 4) is dropped; four features are
  taken as they are, more are picked by depth (``round(n * f) - 1``);
* layout: ``tokens`` for models with a patch embedding and prefix tokens
  whose blocks keep a ``[B, N, C]`` sequence (ViT, DeiT), ``nhwc`` where timm
  says ``output_fmt == "NHWC"`` (Swin), else ``nchw``; prefix tokens, patch
  size and token grid from ``patch_embed``;
* for a class-token head the targets are the blocks' ``norm1`` (the last
  block's output tokens other than CLS get no gradient from the head);
* family: ``transformer`` with attention modules, ``hybrid`` with attention
  and convolutional stages, else ``cnn``;
* traits: ``gap_linear_head`` when only pooling, dropout and one linear
  classifier follow the last target layer; ``timm_resnet_blocks`` for timm's
  ``BasicBlock``/``Bottleneck``.

Any field can be overridden (``from_timm("efficientnet_b3", input_size=224)``).
A field that cannot be derived raises :class:`UnderivableConfig`, naming the
field and the override that supplies it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from .config import DEPTHS, ModelCfg

_FIELDS = {f.name for f in dataclasses.fields(ModelCfg)}
# Modules that may sit between the last target layer and a linear classifier for CAM to stay exact.
_PASSIVE = (nn.Identity, nn.Dropout, nn.Flatten, nn.AdaptiveAvgPool2d)


class UnderivableConfig(ValueError):
    """A ModelCfg field that timm does not give for this architecture; the message names the override."""


def split_name(name: str) -> tuple[str, str]:
    """``"resnet50.a1_in1k"`` -> ``("resnet50", "a1_in1k")``; no tag -> ``(name, "")``."""
    arch, _, tag = name.partition(".")
    return arch, tag


def build_meta(name: str, **create_kwargs: Any) -> nn.Module:
    """The timm architecture without weights, on the meta device (no memory, no hub); CPU as a fallback."""
    import timm  # lazy: timm takes ~3 s to import

    try:
        with torch.device("meta"):
            return timm.create_model(name, pretrained=False, **create_kwargs)
    except (NotImplementedError, RuntimeError):  # an init that reads values (.item()) cannot run on meta
        return timm.create_model(name, pretrained=False, **create_kwargs)


def _missing(name: str, fld: str, why: str, example: str) -> UnderivableConfig:
    return UnderivableConfig(f"{name}: cannot derive {fld}: {why}; pass it: from_timm({name!r}, {example})")


def _features(model: nn.Module, name: str) -> list[tuple[str, int]]:
    info = getattr(model, "feature_info", None)
    if not info:
        raise _missing(
            name,
            "target_layers",
            "timm gives no feature_info for this architecture",
            "target_layers=('a', 'b', 'c', 'd'), strides=(4, 8, 16, 32)",
        )
    feats = [(str(f["module"]), int(f["reduction"])) for f in info]
    kept = [f for f in feats if f[1] >= 4] or feats  # drop the stem
    if len(kept) < len(DEPTHS):
        raise _missing(
            name,
            "target_layers",
            f"feature_info has {len(kept)} stages past the stem ({[m for m, _ in kept]}), the harness needs 4",
            "target_layers=('a', 'b', 'c', 'd'), strides=(4, 8, 16, 32)",
        )
    if len(kept) == len(DEPTHS):
        return kept
    return [kept[round(len(kept) * d / 100) - 1] for d in DEPTHS]


def _is_token_model(model: nn.Module) -> bool:
    return (
        hasattr(model, "patch_embed")
        and int(getattr(model, "num_prefix_tokens", 0) or 0) > 0
        and str(getattr(model, "output_fmt", "NLC")).upper() not in ("NHWC", "NCHW")
        and isinstance(getattr(model, "blocks", None), nn.Sequential)
    )


def _pair(v: Any) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _family(model: nn.Module, layout: str) -> str:
    kinds = {type(m).__name__ for m in model.modules()}
    attention = any("Attention" in k for k in kinds)
    if not attention:
        return "cnn"
    if layout != "tokens":
        return "transformer"
    # a token model whose patch embedding is a CNN backbone (timm's HybridEmbed) is a hybrid
    embed = getattr(model, "patch_embed", None)
    return "hybrid" if embed is not None and hasattr(embed, "backbone") else "transformer"


def _after(model: nn.Module, target: str) -> list[nn.Module]:
    """Leaf modules registered after ``target`` in forward order (siblings at every level, then the top)."""
    parts = target.split(".")
    out: list[nn.Module] = []
    for depth in range(len(parts), 0, -1):
        parent = model.get_submodule(".".join(parts[: depth - 1])) if depth > 1 else model
        names = [n for n, _ in parent.named_children()]
        if parts[depth - 1] not in names:
            return [nn.Conv2d(1, 1, 1)]  # not a plain child: assume something non-passive follows
        for n in names[names.index(parts[depth - 1]) + 1 :]:
            child = parent.get_submodule(n)
            leaves = [m for m in child.modules() if not list(m.children())]
            out.extend(leaves or [child])
    return out


def _traits(model: nn.Module, last: str, layout: str) -> tuple[str, ...]:
    traits: list[str] = []
    pool = getattr(model, "global_pool", None)
    pool_type = pool if isinstance(pool, str) else getattr(pool, "pool_type", "")
    if layout != "tokens" and pool_type == "avg":
        after = _after(model, last)
        linear = [m for m in after if isinstance(m, nn.Linear)]
        passive = all(
            isinstance(m, (*_PASSIVE, nn.Linear)) or type(m).__name__ == "SelectAdaptivePool2d" for m in after
        )
        if passive and len(linear) == 1:
            traits.append("gap_linear_head")
    kinds = {type(m) for m in model.modules()}
    try:
        from timm.models.resnet import BasicBlock, Bottleneck  # lazy: timm takes ~3 s to import

        if kinds & {BasicBlock, Bottleneck}:
            traits.append("timm_resnet_blocks")
    except ImportError:  # pragma: no cover - timm always has them
        pass
    return tuple(traits)


def derive_cfg(model: nn.Module, name: str, *, arch: str, **overrides: Any) -> ModelCfg:
    """A ModelCfg from a built timm ``model`` (its ``pretrained_cfg``, ``feature_info`` and structure)."""
    if unknown := set(overrides) - _FIELDS:
        raise TypeError(f"{name}: unknown ModelCfg field(s) {sorted(unknown)}")
    pc: dict[str, Any] = dict(getattr(model, "pretrained_cfg", None) or {})
    v: dict[str, Any] = {"name": name, "arch": arch, "source": "timm"}
    if "input_size" not in overrides:
        size = pc.get("input_size")
        if not size:
            raise _missing(name, "input_size", "timm's pretrained config has none", "input_size=224")
        if size[1] != size[2]:
            raise _missing(name, "input_size", f"the harness needs square inputs, timm says {size}", "input_size=224")
        v["input_size"] = int(size[1])
    for key in ("mean", "std"):
        if key in pc:
            v[key] = tuple(float(x) for x in pc[key])
    if "crop_pct" in pc:
        v["crop_pct"] = float(pc["crop_pct"])
    if pc.get("interpolation") in ("bicubic", "bilinear", "nearest"):
        v["interpolation"] = pc["interpolation"]
    if pc.get("hf_hub_id"):
        v["hf_hub_id"] = str(pc["hf_hub_id"])
    v["num_classes"] = int(getattr(model, "num_classes", 0) or pc.get("num_classes", 1000))

    token = _is_token_model(model)
    v["layout"] = overrides.get("layout") or (
        "tokens" if token else ("nhwc" if str(getattr(model, "output_fmt", "")).upper() == "NHWC" else "nchw")
    )
    layout = v["layout"]
    if "target_layers" not in overrides or "strides" not in overrides:
        feats = _features(model, name)
        layers = [m for m, _ in feats]
        if layout == "tokens" and getattr(model, "global_pool", "") == "token":
            layers = [f"{m}.norm1" if hasattr(model.get_submodule(m), "norm1") else m for m in layers]
        v["target_layers"] = tuple(layers)
        v["strides"] = tuple(s for _, s in feats)
    if layout == "tokens":
        embed = getattr(model, "patch_embed", None)
        grid = getattr(embed, "grid_size", None)
        if grid is None and "grid_size" not in overrides:
            raise _missing(name, "grid_size", "its patch embedding has no grid_size", "grid_size=(14, 14)")
        if grid is not None:
            v["grid_size"] = _pair(grid)
        patch = getattr(embed, "patch_size", None)
        if patch is not None:
            v["patch_size"] = _pair(patch)[0]
        v["num_prefix_tokens"] = int(getattr(model, "num_prefix_tokens", 0) or 0)
    v["family"] = overrides.get("family") or _family(model, layout)
    last = (overrides.get("target_layers") or v["target_layers"])[-1]
    v["traits"] = _traits(model, last, layout)
    v.update(overrides)
    if v["num_classes"] != 1000 and "label_space" not in overrides:
        v["label_space"] = f"{name}-classes"
    return ModelCfg(**v)


def from_timm(name: str, /, **overrides: Any) -> ModelCfg:
    """A :class:`ModelCfg` for the timm model ``name`` (``arch`` or ``arch.pretrained_tag``).

    ``overrides`` are ModelCfg fields (``name=``, ``input_size=``,
    ``target_layers=``...).  ``create_kwargs`` are passed to
    ``timm.create_model``; a ``num_classes`` override is passed too, so a
    fine-tuned head is built with its own size.

    >>> from_timm("resnet18").target_layers
    ('layer1', 'layer2', 'layer3', 'layer4')
    """
    arch, _tag = split_name(name)
    kwargs = dict(overrides.pop("create_kwargs", ()))
    if "num_classes" in overrides:
        kwargs["num_classes"] = int(overrides["num_classes"])
    try:
        model = build_meta(name, **kwargs)
    except RuntimeError as exc:  # timm: "Unknown model (...)"
        raise UnderivableConfig(f"{name}: timm cannot build it: {exc}") from exc
    reg_name = overrides.pop("name", arch)
    if kwargs:
        overrides["create_kwargs"] = tuple(sorted(kwargs.items()))
    return derive_cfg(model, reg_name, arch=arch, **overrides)
