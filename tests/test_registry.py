import pytest
import torch

from harness.explainers.tokens import to_grid
from harness.models import (
    DEPTHS,
    STUDY_NAMES,
    UnknownModelError,
    get_model_cfg,
    list_models,
    register_model,
)
from harness.models.config import ModelCfg
from harness.models.loading import build_module
from harness.models.registry import MODELS

STUDY_ARCHS = {
    "convnextv2_nano",
    "densenet121",
    "efficientnet_b3",
    "efficientnet_b4",
    "mobilenetv3_large_100",
    "resnet18",
    "resnet50",
    "resnext50_32x4d",
    "res2net50_26w_4s",
    "deit_small_patch16_224",
    "deit_tiny_patch16_224",
    "pvt_v2_b2",
    "swin_tiny_patch4_window7_224",
    "vit_base_patch32_224",
}


def test_study_models_registered_with_families():
    archs = {get_model_cfg(n).arch for n in STUDY_NAMES}
    assert archs == STUDY_ARCHS
    fams = {n: get_model_cfg(n).family for n in STUDY_NAMES}
    assert sum(f == "cnn" for f in fams.values()) == 9
    assert sum(f == "transformer" for f in fams.values()) == 5
    for extra in ("resnet34", "vit_b16", "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"):
        assert extra in list_models()


def test_list_models_filters():
    assert list_models("vit_*") == ["vit_b16", "vit_b32"]
    assert "deit_tiny" in list_models(family="transformer")
    assert "resnet18" not in list_models(family="transformer")
    assert list_models(source="package") == ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
    assert not any(n.startswith("toy_") for n in list_models(exclude_source=["toy"]))


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownModelError, match="did you mean.*deit_small"):
        get_model_cfg("deit_smal")


def test_duplicate_registration_warns():
    cfg = ModelCfg(name="dup_probe", arch="test_resnet", family="cnn", source="toy")
    try:
        register_model(lambda: cfg)
        with pytest.warns(UserWarning, match="registered twice"):
            register_model(lambda: cfg)
    finally:
        if "dup_probe" in MODELS:
            MODELS.remove("dup_probe")


def test_config_validation():
    with pytest.raises(ValueError, match="family"):
        ModelCfg(name="x", arch="y", family="rnn")
    with pytest.raises(ValueError, match="grid_size"):
        ModelCfg(name="x", arch="y", family="transformer", layout="tokens")
    with pytest.raises(ValueError, match="depth"):
        get_model_cfg("resnet18").target_layer(60)


def test_lite_models_use_tf_normalisation():
    cfg = get_model_cfg("efficientnet_lite0")
    # (x - 127) / 128 on 0..255 pixels == (u - 127/255) / (128/255) on 0..1 pixels
    assert cfg.mean[0] * 255 == pytest.approx(127.0)
    assert cfg.std[0] * 255 == pytest.approx(128.0)
    assert [get_model_cfg(f"efficientnet_lite{k}").input_size for k in range(3)] == [224, 240, 260]


# Expected native Grad-CAM grids at 224 px, 100 % depth.
NATIVE_100 = {n: (7, 7) for n in STUDY_NAMES} | {
    "deit_small": (14, 14),
    "deit_tiny": (14, 14),
    "resnet34": (7, 7),
    "vit_b16": (14, 14),
}


@pytest.mark.parametrize("name", sorted(list_models()))
def test_target_layers_exist_and_grids_match(name):
    """Built on the meta device: no memory, no weights; only shapes are checked."""
    cfg = get_model_cfg(name)
    with torch.device("meta"):
        module = build_module(cfg).eval()
    grids = {}
    hooks = []
    for depth in DEPTHS:
        layer = module.get_submodule(cfg.target_layer(depth))

        def hook(_m, _i, out, depth=depth):
            grids[depth] = tuple(to_grid(out, cfg).shape[-2:])

        hooks.append(layer.register_forward_hook(hook))
    with torch.no_grad():
        module(torch.empty(1, 3, cfg.input_size, cfg.input_size, device="meta"))
    for h in hooks:
        h.remove()
    for depth in DEPTHS:
        assert grids[depth] == cfg.native_grid(depth), f"{name}@{depth}%: grid {grids[depth]} != config"
    if name in NATIVE_100:  # independent figures, measured with plain timm
        assert grids[100] == NATIVE_100[name], f"{name}: native grid {grids[100]} != {NATIVE_100[name]}"
    sides = [grids[d][0] for d in DEPTHS]
    assert sides == sorted(sides, reverse=True), f"{name}: grid must not shrink with less depth: {sides}"
