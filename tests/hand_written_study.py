"""The hand-written configs of the 16 timm study models, as they were before ``from_timm``.

Test data for tests/test_from_timm.py: every field that matters must equal
what ``from_timm`` plus the study's overrides derive, or the test names the
difference and why.
"""

from harness.models.config import IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD, ModelCfg


def _resnet(
    name: str,
    arch: str,
    hub: str,
    *,
    traits: tuple[str, ...] = ("gap_linear_head", "timm_resnet_blocks"),
) -> ModelCfg:
    return ModelCfg(
        name=name,
        arch=arch,
        family="cnn",
        hf_hub_id=hub,
        target_layers=("layer1", "layer2", "layer3", "layer4"),
        traits=traits,
    )


def _vit(name: str, arch: str, hub: str, *, patch: int, depth: int = 12, inception: bool = False) -> ModelCfg:
    picks = tuple(f"blocks.{round(depth * f) - 1}.norm1" for f in (0.25, 0.5, 0.75, 1.0))
    side = 224 // patch
    mean, std = (INCEPTION_MEAN, INCEPTION_STD) if inception else (IMAGENET_MEAN, IMAGENET_STD)
    return ModelCfg(
        name=name,
        arch=arch,
        family="transformer",
        hf_hub_id=hub,
        target_layers=picks,
        strides=(patch,) * 4,
        layout="tokens",
        num_prefix_tokens=1,
        patch_size=patch,
        grid_size=(side, side),
        mean=mean,
        std=std,
    )


def _efficientnet(name: str, arch: str, hub: str) -> ModelCfg:
    # blocks.0..6 are the seven MBConv stages; bn2 (after conv_head) is the last map.
    return ModelCfg(
        name=name,
        arch=arch,
        family="cnn",
        hf_hub_id=hub,
        target_layers=("blocks.1", "blocks.3", "blocks.5", "bn2"),
        strides=(4, 16, 32, 32),
        traits=("gap_linear_head",),
    )


STUDY_MODELS: tuple[ModelCfg, ...] = (
    # CNNs
    ModelCfg(
        name="convnextv2_nano",
        arch="convnextv2_nano",
        family="cnn",
        hf_hub_id="timm/convnextv2_nano.fcmae_ft_in22k_in1k",
        target_layers=("stages.0", "stages.1", "stages.2", "stages.3"),
    ),
    ModelCfg(
        name="densenet121",
        arch="densenet121",
        family="cnn",
        hf_hub_id="timm/densenet121.ra_in1k",
        target_layers=(
            "features.denseblock1",
            "features.denseblock2",
            "features.denseblock3",
            "features.norm5",
        ),
        traits=("gap_linear_head",),
    ),
    _efficientnet("efficientnet_b3", "efficientnet_b3", "timm/efficientnet_b3.ra2_in1k"),
    _efficientnet("efficientnet_b4", "efficientnet_b4", "timm/efficientnet_b4.ra2_in1k"),
    ModelCfg(
        # timm's MobileNetV3 pools *before* conv_head, so the last map is blocks.6.
        name="mobilenetv3_large",
        arch="mobilenetv3_large_100",
        family="cnn",
        hf_hub_id="timm/mobilenetv3_large_100.ra_in1k",
        target_layers=("blocks.1", "blocks.3", "blocks.4", "blocks.6"),
        strides=(4, 16, 16, 32),
    ),
    _resnet("resnet18", "resnet18", "timm/resnet18.a1_in1k"),
    _resnet("resnet50", "resnet50", "timm/resnet50.a1_in1k"),
    _resnet("resnext50", "resnext50_32x4d", "timm/resnext50_32x4d.a1h_in1k"),
    # Res2Net's Bottle2neck blocks are not handled by the CNN LRP canonizer.
    _resnet("res2net50", "res2net50_26w_4s", "timm/res2net50_26w_4s.in1k", traits=("gap_linear_head",)),
    # Transformers
    _vit("deit_small", "deit_small_patch16_224", "timm/deit_small_patch16_224.fb_in1k", patch=16),
    _vit("deit_tiny", "deit_tiny_patch16_224", "timm/deit_tiny_patch16_224.fb_in1k", patch=16),
    ModelCfg(
        name="pvt_v2_b2",
        arch="pvt_v2_b2",
        family="transformer",
        hf_hub_id="timm/pvt_v2_b2.in1k",
        target_layers=("stages.0", "stages.1", "stages.2", "stages.3"),
        traits=("gap_linear_head",),
    ),
    ModelCfg(
        name="swin_tiny",
        arch="swin_tiny_patch4_window7_224",
        family="transformer",
        hf_hub_id="timm/swin_tiny_patch4_window7_224.ms_in1k",
        target_layers=("layers.0", "layers.1", "layers.2", "layers.3"),
        layout="nhwc",
    ),
    _vit(
        "vit_b32",
        "vit_base_patch32_224",
        "timm/vit_base_patch32_224.augreg_in21k_ft_in1k",
        patch=32,
        inception=True,
    ),
)

EXTRA_MODELS: tuple[ModelCfg, ...] = (
    _resnet("resnet34", "resnet34", "timm/resnet34.a1_in1k"),
    _vit(
        "vit_b16",
        "vit_base_patch16_224",
        "timm/vit_base_patch16_224.augreg2_in21k_ft_in1k",
        patch=16,
        inception=True,
    ),
)

HAND_WRITTEN = {c.name: c for c in STUDY_MODELS + EXTRA_MODELS}
