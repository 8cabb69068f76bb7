"""The models of the CNN-vs-transformer study, plus ResNet34 and ViT-B/16, configured from timm.

Each config is :func:`~harness.models.from_timm.from_timm` of the weights'
tag, registered lazily (built on first lookup, so importing the harness does
not import timm).  Overrides, only where the study needs them:

* :data:`STUDY_PREPROCESSING` for every model: one resize-and-crop
  (``crop_pct`` 0.875, bicubic) so that all models see the same field of
  view and the cross-model comparisons compare maps of the same pixels
  (timm's per-weights values range over 0.875..0.95, bilinear for Res2Net);
* EfficientNet-B3/B4 at 224 px like every other study model (timm's
  pretrained configs say 288 and 320), with the targets picked by depth over
  the seven MBConv stages and ``bn2`` (the map the head pools, after
  ``conv_head``) at 100 %, where ``feature_info`` stops at ``blocks.6``;
* MobileNetV3 at 50 % on ``blocks.3`` (stride 16, by depth over the stages)
  rather than ``feature_info``'s ``blocks.2`` (stride 8).

``tests/test_from_timm.py`` holds the hand-written configs these replaced
and checks every field that matters against them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from .config import ModelCfg
from .from_timm import from_timm
from .registry import add_lazy_model

STUDY_PREPROCESSING: dict[str, Any] = {"crop_pct": 0.875, "interpolation": "bicubic"}

_EFFICIENTNET = {
    "input_size": 224,
    "target_layers": ("blocks.1", "blocks.3", "blocks.5", "bn2"),
    "strides": (4, 16, 32, 32),
}

# registry name -> (timm name with the weights' tag, overrides)
STUDY_SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    # CNNs
    "convnextv2_nano": ("convnextv2_nano.fcmae_ft_in22k_in1k", {}),
    "densenet121": ("densenet121.ra_in1k", {}),
    "efficientnet_b3": ("efficientnet_b3.ra2_in1k", _EFFICIENTNET),
    "efficientnet_b4": ("efficientnet_b4.ra2_in1k", _EFFICIENTNET),
    "mobilenetv3_large": (
        "mobilenetv3_large_100.ra_in1k",
        {"target_layers": ("blocks.1", "blocks.3", "blocks.4", "blocks.6"), "strides": (4, 16, 16, 32)},
    ),
    "resnet18": ("resnet18.a1_in1k", {}),
    "resnet50": ("resnet50.a1_in1k", {}),
    "resnext50": ("resnext50_32x4d.a1h_in1k", {}),
    "res2net50": ("res2net50_26w_4s.in1k", {}),
    # Transformers
    "deit_small": ("deit_small_patch16_224.fb_in1k", {}),
    "deit_tiny": ("deit_tiny_patch16_224.fb_in1k", {}),
    "pvt_v2_b2": ("pvt_v2_b2.in1k", {}),
    "swin_tiny": ("swin_tiny_patch4_window7_224.ms_in1k", {}),
    "vit_b32": ("vit_base_patch32_224.augreg_in21k_ft_in1k", {}),
}

EXTRA_SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    "resnet34": ("resnet34.a1_in1k", {}),
    "vit_b16": ("vit_base_patch16_224.augreg2_in21k_ft_in1k", {}),
}


def study_cfg(name: str) -> ModelCfg:
    """The study's config of ``name``, derived from timm now (what the registry holds)."""

    timm_name, overrides = {**STUDY_SPECS, **EXTRA_SPECS}[name]
    return from_timm(timm_name, name=name, **{**STUDY_PREPROCESSING, **overrides})


for _name in (*STUDY_SPECS, *EXTRA_SPECS):
    add_lazy_model(_name, partial(study_cfg, _name))

STUDY_NAMES = tuple(STUDY_SPECS)
