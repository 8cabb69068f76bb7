"""``ModelCfg.from_timm``: the 16 study configs derived from timm equal the hand-written ones.

Every field that matters (target layers, strides, layout, grid, prefix
tokens, patch size, normalisation, input size, crop, interpolation, family,
traits, hub id) is compared.  Where plain ``from_timm`` (no overrides)
differs, :data:`NAMED_DIFFERENCES` names the field and why the study
overrides it.
"""

import dataclasses

import pytest
from hand_written_study import HAND_WRITTEN
from torch import nn

from harness.models import ModelCfg, get_model_cfg, list_models
from harness.models.from_timm import UnderivableConfig, derive_cfg, from_timm
from harness.models.study import EXTRA_SPECS, STUDY_PREPROCESSING, STUDY_SPECS

FIELDS = (
    "arch",
    "family",
    "source",
    "input_size",
    "mean",
    "std",
    "crop_pct",
    "interpolation",
    "target_layers",
    "strides",
    "layout",
    "num_prefix_tokens",
    "patch_size",
    "grid_size",
    "hf_hub_id",
    "num_classes",
    "label_space",
    "traits",
)
SPECS = {**STUDY_SPECS, **EXTRA_SPECS}

# What plain from_timm(tag) gives that the hand-written config did not, and why the study overrides it.
_CROP = "timm's crop_pct for these weights; the study crops all models alike (STUDY_PREPROCESSING)"
_EFF_LAYERS = (
    "feature_info stops at blocks.6 and picks stages by stride; the study picks by depth over the 7 MBConv "
    "stages and takes bn2 (the map the head pools) at 100 %"
)
NAMED_DIFFERENCES: dict[str, dict[str, str]] = {
    "efficientnet_b3": {
        "input_size": "timm's pretrained config says 288; the study runs every model at 224",
        "target_layers": _EFF_LAYERS,
        "strides": _EFF_LAYERS,
        "traits": "with blocks.6 at 100 % conv_head follows, so CAM is not exact (gap_linear_head needs bn2)",
    },
    "mobilenetv3_large": {
        "target_layers": "feature_info's 50 % stage is blocks.2 (stride 8); the study takes blocks.3 (stride 16)",
        "strides": "follows the target layers",
    },
    "res2net50": {"interpolation": "timm's pretrained config says bilinear; the study resizes all with bicubic"},
}
for _name in ("resnet18", "resnet34", "resnet50", "resnext50", "deit_small", "deit_tiny", "pvt_v2_b2"):
    NAMED_DIFFERENCES[_name] = {"crop_pct": _CROP}
for _name in ("swin_tiny", "vit_b32", "vit_b16"):
    NAMED_DIFFERENCES[_name] = {"crop_pct": _CROP}
NAMED_DIFFERENCES["efficientnet_b4"] = {**NAMED_DIFFERENCES["efficientnet_b3"]}
NAMED_DIFFERENCES["efficientnet_b4"]["input_size"] = "timm's pretrained config says 320; the study runs all at 224"


def _diff(a: ModelCfg, b: ModelCfg) -> dict[str, tuple]:
    return {f: (getattr(a, f), getattr(b, f)) for f in FIELDS if getattr(a, f) != getattr(b, f)}


def test_sixteen_timm_configs():
    assert len(HAND_WRITTEN) == 16 and set(HAND_WRITTEN) == set(SPECS)


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_registered_config_equals_hand_written(name):
    """The registered config (from_timm + the study's overrides) equals the hand-written one in every field."""
    assert _diff(HAND_WRITTEN[name], get_model_cfg(name)) == {}


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_plain_from_timm_differs_only_where_named(name):
    """from_timm with no study overrides differs from the hand-written config only in the named fields."""
    timm_name, _ = SPECS[name]
    plain = from_timm(timm_name, name=name)
    differs = set(_diff(HAND_WRITTEN[name], plain))
    assert differs == set(NAMED_DIFFERENCES.get(name, {})), f"{name}: differs in {differs}"
    # every named difference is one the study's overrides put back (traits are derived from the targets)
    overridden = set(STUDY_PREPROCESSING) | set(SPECS[name][1])
    assert differs - {"traits"} <= overridden


def test_lazy_registration_keeps_import_cheap():
    import subprocess
    import sys

    code = "import sys; from harness.models.registry import MODELS; assert 'resnet50' in MODELS; "
    code += "print('timm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "importing harness.models (and a membership test) imported timm"


def test_tag_and_overrides():
    cfg = ModelCfg.from_timm("resnet18.a1_in1k", name="mine", num_classes=7, label_space="mine")
    assert cfg.name == "mine" and cfg.arch == "resnet18" and cfg.hf_hub_id == "timm/resnet18.a1_in1k"
    assert cfg.num_classes == 7 and dict(cfg.create_kwargs) == {"num_classes": 7}
    assert cfg.crop_pct == 0.95  # the a1 weights' own crop
    assert ModelCfg.from_timm("resnet18.tv_in1k").crop_pct == 0.875
    assert from_timm("vit_tiny_patch16_224", family="hybrid").family == "hybrid"


def test_unknown_field_and_architecture():
    with pytest.raises(TypeError, match="unknown ModelCfg field"):
        from_timm("resnet18", target_layer="layer4")
    with pytest.raises(UnderivableConfig, match="not_a_model"):
        from_timm("not_a_model")


class _NoFeatureInfo(nn.Module):
    pretrained_cfg = {"input_size": (3, 64, 64), "mean": (0.5,) * 3, "std": (0.5,) * 3}

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)


def test_underivable_names_field_and_override():
    with pytest.raises(UnderivableConfig) as err:
        derive_cfg(_NoFeatureInfo(), "custom", arch="custom")
    msg = str(err.value)
    assert "custom: cannot derive target_layers" in msg and "target_layers=(" in msg and "strides=(" in msg
    cfg = derive_cfg(
        _NoFeatureInfo(), "custom", arch="custom", family="cnn", target_layers=("conv",) * 4, strides=(1,) * 4
    )
    assert cfg.input_size == 64 and cfg.mean == (0.5,) * 3


def test_registered_models_listable():
    assert set(SPECS) <= set(list_models("*", source="timm"))
    assert dataclasses.is_dataclass(get_model_cfg("vit_b16"))
