"""Thin adapters for classifiers from torchvision and Hugging Face ``transformers``.

An adapted model is an :class:`Adapted` module: ``forward(x) -> logits``
(a ``transformers`` model's output object is unwrapped), the wrapped model
under ``.model`` (so target layers read ``model.layer4``), and, for
transformers, ``harness_attention_capture()``: the context in which each
forward records every block's attention probabilities ``[B, heads, N, N]``,
which the rollout explainers use instead of timm's attention modules.

Architectures are named ``torchvision:NAME`` (``torchvision:resnet18``,
``torchvision:vit_b_16``) or ``transformers:CLASS`` with the model config in
``create_kwargs`` (``transformers:ViTForImageClassification`` with
``image_size``, ``patch_size``, ``num_hidden_layers``...).  Their
:class:`ModelCfg` comes from :func:`adapter_cfg`; what cannot be derived
raises :class:`~harness.models.from_timm.UnderivableConfig` naming the override.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from .config import DEPTHS, ModelCfg
from .from_timm import UnderivableConfig

ADAPTER_KINDS = ("torchvision", "transformers")


class Adapted(nn.Module):
    """A foreign classifier as the harness sees one: ``forward(x) -> logits``."""

    def __init__(self, model: nn.Module, kind: str) -> None:
        super().__init__()
        self.model = model
        self.kind = kind
        self._maps: list[torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "transformers":
            out = self.model(pixel_values=x, output_attentions=self._maps is not None)
            if self._maps is not None:
                self._maps.extend(out.attentions)
            return out.logits
        return self.model(x)

    @contextmanager
    def harness_attention_capture(self) -> Iterator[list[torch.Tensor]]:
        """Each forward inside appends every block's attention probabilities (graph kept under grad)."""
        maps: list[torch.Tensor] = []
        if self.kind == "transformers":
            self._maps = maps
            try:
                yield maps
            finally:
                self._maps = None
            return
        mhas = [m for m in self.model.modules() if isinstance(m, nn.MultiheadAttention)]
        if not mhas:
            raise ValueError(f"{type(self.model).__name__}: no attention modules to capture")
        saved = [m.forward for m in mhas]

        def capturing(orig):
            def forward(*args, **kwargs):
                kwargs.update(need_weights=True, average_attn_weights=False)
                out, weights = orig(*args, **kwargs)
                maps.append(weights)
                return out, weights

            return forward

        try:
            for m, orig in zip(mhas, saved):
                m.forward = capturing(orig)  # type: ignore[method-assign]
            yield maps
        finally:
            for m, orig in zip(mhas, saved):
                m.forward = orig  # type: ignore[method-assign]


def is_adapter(arch: str) -> bool:
    return arch.partition(":")[0] in ADAPTER_KINDS


def split_arch(arch: str) -> tuple[str, str]:
    kind, _, name = arch.partition(":")
    if kind not in ADAPTER_KINDS or not name:
        raise ValueError(f"architecture {arch!r}: adapters are {', '.join(k + ':NAME' for k in ADAPTER_KINDS)}")
    return kind, name


def build_adapted(arch: str, **kwargs: Any) -> Adapted:
    """Build ``torchvision:NAME`` / ``transformers:CLASS`` with random weights (eval mode)."""
    kind, name = split_arch(arch)
    if kind == "torchvision":
        import torchvision  # lazy: torchvision takes ~2 s to import

        model = torchvision.models.get_model(name, weights=None, **kwargs)
    else:
        import transformers  # lazy: optional extra [transformers]

        cls = getattr(transformers, name)
        config = cls.config_class(**kwargs)
        config._attn_implementation = "eager"  # attention probabilities are returned, not fused away
        model = cls(config)
    return Adapted(model, kind).eval()


def _stage_names(model: nn.Module) -> list[str]:
    children = dict(model.named_children())
    if all(f"layer{i}" in children for i in range(1, 5)):  # ResNet, ResNeXt, Wide ResNet
        return [f"layer{i}" for i in range(1, 5)]
    features = children.get("features")
    if isinstance(features, nn.Sequential):  # ConvNeXt, EfficientNet, MobileNet, VGG, DenseNet
        return [f"features.{n}" for n, _ in features.named_children()]
    return []


def _strides(module: nn.Module, names: list[str], size: int) -> list[int]:
    sides: dict[str, int] = {}
    hooks = [
        module.get_submodule(n).register_forward_hook(lambda _m, _i, out, n=n: sides.__setitem__(n, out.shape[-1]))
        for n in names
    ]
    try:
        with torch.no_grad():
            module(torch.zeros(1, 3, size, size))
    finally:
        for h in hooks:
            h.remove()
    return [max(1, round(size / sides[n])) for n in names]


def _torchvision_fields(name: str, model: Any, fields: dict[str, Any]) -> dict[str, Any]:
    import torchvision  # lazy: torchvision takes ~2 s to import

    v: dict[str, Any] = {}
    try:
        weights = torchvision.models.get_model_weights(name).DEFAULT
        t = weights.transforms()
        v.update(
            input_size=int(t.crop_size[0]),
            mean=tuple(t.mean),
            std=tuple(t.std),
            crop_pct=float(t.crop_size[0]) / float(t.resize_size[0]),
            interpolation=str(t.interpolation.value),
        )
    except (ValueError, AttributeError, KeyError):  # no weights enum: timm-like defaults
        pass
    size = fields.get("input_size", v.get("input_size", 224))
    enc = getattr(model, "encoder", None)
    if hasattr(model, "class_token") and enc is not None:  # torchvision VisionTransformer
        layers = [f"model.encoder.layers.{n}.ln_1" for n, _ in enc.layers.named_children()]
        patch = int(model.patch_size)
        size = int(model.image_size)  # fixed by the position embedding
        side = size // patch
        v["input_size"] = size
        picks = [layers[round(len(layers) * d / 100) - 1] for d in DEPTHS]
        v.update(
            family="transformer",
            layout="tokens",
            target_layers=tuple(picks),
            strides=(patch,) * 4,
            num_prefix_tokens=1,
            patch_size=patch,
            grid_size=(side, side),
        )
        return v
    stages = _stage_names(model)
    if "target_layers" not in fields:
        if not stages:
            raise UnderivableConfig(
                f"torchvision:{name}: cannot derive target_layers: no layer1..layer4 or features stages; "
                "pass target_layers=('model.a', ...) and strides=(4, 8, 16, 32)"
            )
        strides = _strides(model, stages, size)
        kept = [(n, s) for n, s in zip(stages, strides) if s >= 4]
        if len(kept) > 4:
            kept = [kept[round(len(kept) * d / 100) - 1] for d in DEPTHS]
        if len(kept) < 4:
            raise UnderivableConfig(
                f"torchvision:{name}: cannot derive target_layers: {len(kept)} stages past the stem; pass "
                "target_layers=(...) and strides=(...)"
            )
        v.update(target_layers=tuple(f"model.{n}" for n, _ in kept), strides=tuple(s for _, s in kept))
    v["family"] = "cnn"
    children = dict(model.named_children())
    if isinstance(children.get("avgpool"), nn.AdaptiveAvgPool2d) and isinstance(children.get("fc"), nn.Linear):
        v["traits"] = ("gap_linear_head",)  # torchvision ResNet: layer4 -> avgpool -> fc
    return v


def _transformers_fields(model: Any, fields: dict[str, Any]) -> dict[str, Any]:
    config = model.config
    base_name = model.base_model_prefix
    base = getattr(model, base_name, model)
    where, layers = "", None
    for path in ("layers", "encoder.layer", "encoder.layers"):  # transformers 5 / 4
        try:
            found = base.get_submodule(path)
        except AttributeError:
            continue
        if isinstance(found, nn.ModuleList):
            where, layers = path, found
            break
    if layers is None or not hasattr(config, "patch_size"):
        raise UnderivableConfig(
            f"transformers:{type(model).__name__}: cannot derive target_layers: no encoder.layer blocks with "
            "patch_size; pass target_layers=(...), strides=(...), layout=..., grid_size=(...)"
        )
    prefix = f"model.{base_name}.{where}"
    norm = "layernorm_before" if hasattr(layers[0], "layernorm_before") else ""
    n = len(layers)
    picks = tuple(f"{prefix}.{round(n * d / 100) - 1}" + (f".{norm}" if norm else "") for d in DEPTHS)
    size = int(config.image_size)
    patch = int(config.patch_size)
    return dict(
        family="transformer",
        input_size=size,
        mean=(0.5, 0.5, 0.5),  # ViTImageProcessor's defaults
        std=(0.5, 0.5, 0.5),
        crop_pct=1.0,
        interpolation="bilinear",
        layout="tokens",
        target_layers=picks,
        strides=(patch,) * 4,
        num_prefix_tokens=1,
        patch_size=patch,
        grid_size=(size // patch, size // patch),
    )


def adapter_cfg(arch: str, /, **fields: Any) -> ModelCfg:
    """A :class:`ModelCfg` for ``torchvision:NAME`` or ``transformers:CLASS``; ``fields`` override.

    ``num_classes`` is passed to the builder (``num_labels`` for transformers);
    ``create_kwargs`` are the builder's (the transformers model config).
    """
    kind, name = split_arch(arch)
    kwargs = dict(fields.pop("create_kwargs", ()))
    if "num_classes" in fields:
        kwargs["num_classes" if kind == "torchvision" else "num_labels"] = int(fields["num_classes"])
    with torch.random.fork_rng(devices=[]):
        adapted = build_adapted(arch, **kwargs)
    model: Any = adapted.model
    derived = _torchvision_fields(name, model, fields) if kind == "torchvision" else _transformers_fields(model, fields)
    n = int(fields.get("num_classes", getattr(model, "num_labels", 0) or 1000))
    default = f"tv_{name}" if kind == "torchvision" else f"hf_{name.lower()}"
    v: dict[str, Any] = dict(name=default, arch=arch, source="adapter", num_classes=n)
    v["create_kwargs"] = tuple(sorted(kwargs.items()))
    v.update(derived)
    v.update(fields)
    if v["num_classes"] != 1000 and "label_space" not in fields:
        v["label_space"] = f"{v['name']}-classes"
    return ModelCfg(**v)
