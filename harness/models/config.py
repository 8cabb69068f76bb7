"""Flat, frozen model configuration.

Every registry entry carries one :class:`ModelCfg`.  It says everything the
harness needs to build, feed and explain a model without inspecting it:
family tag, preprocessing, Grad-CAM target layers at four depths, and how a
token model's activations turn into a spatial grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)
# TF-style EfficientNet-Lite normalisation: (x - 127) / 128 on 0..255 pixels.
TF_LITE_MEAN = (127.0 / 255.0,) * 3
TF_LITE_STD = (128.0 / 255.0,) * 3

FAMILIES = ("cnn", "transformer", "hybrid")
SOURCES = ("timm", "package", "toy", "zoo", "checkpoint", "adapter", "oracle")
LAYOUTS = ("nchw", "nhwc", "tokens")
DEPTHS = (25, 50, 75, 100)
# Structural facts some explainers need (ExplainerCfg.requires):
# gap_linear_head: logits = linear(global average of the last target layer), so CAM is exact;
# timm_resnet_blocks: timm BasicBlock/Bottleneck residual blocks, which the CNN LRP canonizer handles.
TRAITS = ("gap_linear_head", "timm_resnet_blocks")


@dataclass(frozen=True)
class ModelCfg:
    """Everything the harness knows about one registered model.

    Attributes
    ----------
    name:
        Short registry name used in case ids (``deit_small``).
    arch:
        timm architecture passed to ``timm.create_model``.
    family:
        ``cnn``, ``transformer`` or ``hybrid``; drives pytest markers.
    source:
        Where real weights come from: ``timm`` (local file, HF cache, hub),
        ``package`` (a pip package bundles them), ``toy`` (random or
        hand-set weights for unit tests), ``oracle`` (hand-wired models
        whose right attribution is known: :mod:`harness.models.oracle`), ``zoo`` (trained by us),
        ``checkpoint`` (the user's file in ``checkpoint``) or ``adapter``
        (a torchvision or transformers classifier: local file or random).
    input_size:
        Square input side in pixels.
    mean, std:
        Per-channel normalisation applied to 0..1 pixels.
    crop_pct:
        Resize the short side to ``input_size / crop_pct`` then centre-crop.
    target_layers:
        Module names for Grad-CAM at 25, 50, 75 and 100 % depth.
    strides:
        Feature stride of each target layer; the native Grad-CAM grid is
        ``ceil(input_size / stride)`` (TF-style "same" padding rounds up).
    layout:
        Layout of the target layers' outputs: ``nchw``, ``nhwc`` (Swin
        stages) or ``tokens`` (``[B, N, C]`` sequences).
    num_prefix_tokens:
        CLS/distillation tokens to drop before reshaping tokens to a grid.
    patch_size:
        Patch side in pixels for uniform-patch transformers, else 0.
    grid_size:
        Token grid (rows, cols) at the last target layer for token models.
    weights_package:
        For ``source="package"``: the importable package bundling the file.
    hf_hub_id:
        Hugging Face repository id of the canonical pretrained weights.
    traits:
        Structural facts from :data:`TRAITS` that explainers may require.
    checkpoint:
        For ``source="checkpoint"``: the user's weights file (``.safetensors``,
        or a ``.pth`` state dict, read with ``weights_only=True``).
    class_names:
        Names of the classifier's outputs, in output order (empty for
        ImageNet models); an ``ImageFolder`` image set is checked against them.
    init_from:
        Registry name of a model whose real weights initialise training
        (transfer learning, as the zoo's fine-tuned EfficientNet-Lite0);
        empty for training from a seeded random initialisation.
    num_classes:
        Size of the classifier output.
    label_space:
        Which labels the classifier predicts (``imagenet`` for the 1000
        ImageNet-1k classes).
    """

    name: str
    arch: str
    family: str
    source: str = "timm"
    input_size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    crop_pct: float = 0.875
    interpolation: str = "bicubic"
    target_layers: tuple[str, ...] = ("", "", "", "")
    strides: tuple[int, ...] = (4, 8, 16, 32)
    layout: str = "nchw"
    num_prefix_tokens: int = 0
    patch_size: int = 0
    grid_size: tuple[int, int] | None = None
    weights_package: str = ""
    hf_hub_id: str = ""
    num_classes: int = 1000
    label_space: str = "imagenet"
    create_kwargs: tuple[tuple[str, object], ...] = field(default=())
    traits: tuple[str, ...] = ()
    init_from: str = ""
    checkpoint: str = ""
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: family {self.family!r} not in {FAMILIES}")
        if self.source not in SOURCES:
            raise ValueError(f"{self.name}: source {self.source!r} not in {SOURCES}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"{self.name}: layout {self.layout!r} not in {LAYOUTS}")
        if unknown := set(self.traits) - set(TRAITS):
            raise ValueError(f"{self.name}: unknown trait(s) {sorted(unknown)}; known: {TRAITS}")
        if len(self.target_layers) != len(DEPTHS) or len(self.strides) != len(DEPTHS):
            raise ValueError(f"{self.name}: target_layers and strides need one entry per depth {DEPTHS}")
        if self.class_names and len(self.class_names) != self.num_classes:
            raise ValueError(f"{self.name}: {len(self.class_names)} class names for num_classes={self.num_classes}")
        if self.source == "checkpoint" and not self.checkpoint:
            raise ValueError(f"{self.name}: source 'checkpoint' needs checkpoint=PATH")
        if self.layout == "tokens" and self.grid_size is None:
            raise ValueError(f"{self.name}: token models need grid_size")

    def target_layer(self, depth: int = 100) -> str:
        """Grad-CAM target layer at ``depth`` percent (25, 50, 75 or 100)."""
        if depth not in DEPTHS:
            raise ValueError(f"{self.name}: depth must be one of {DEPTHS}, got {depth}")
        return self.target_layers[DEPTHS.index(depth)]

    def native_grid(self, depth: int = 100) -> tuple[int, int]:
        """Expected native Grad-CAM map at ``depth``, from the config alone."""
        self.target_layer(depth)  # validates depth
        side = -(-self.input_size // self.strides[DEPTHS.index(depth)])
        return (side, side)

    @classmethod
    def from_timm(cls, name: str, /, **overrides: Any) -> ModelCfg:
        """Derive a config from timm itself (offline): see :func:`harness.models.from_timm.from_timm`."""
        from .from_timm import from_timm  # lazy: from_timm imports this module (a real cycle)

        return from_timm(name, **overrides)
