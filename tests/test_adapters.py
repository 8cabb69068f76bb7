"""torchvision and Hugging Face transformers classifiers through the adapters (random-weight instances).

Grad-CAM, IG and rollout (plus gradient-weighted rollout on the transformers)
run on models built from configs alone; the maps are finite, of the input's
size, and not constant.
"""

import numpy as np
import pytest
import torch

from harness.explainers import create_explainer, get_explainer_cfg
from harness.models import load_model
from harness.models.adapters import Adapted, adapter_cfg
from harness.models.from_timm import UnderivableConfig

transformers = pytest.importorskip("transformers")

HF_VIT = dict(
    image_size=32,
    patch_size=8,
    hidden_size=32,
    num_hidden_layers=4,
    num_attention_heads=2,
    intermediate_size=64,
)


@pytest.fixture(scope="module")
def tv_resnet():
    cfg = adapter_cfg("torchvision:resnet18", name="tv_resnet18", num_classes=5, input_size=64)
    return load_model(cfg, pretrained=False, device="cpu")


@pytest.fixture(scope="module")
def tv_vit():
    cfg = adapter_cfg("torchvision:vit_b_16", name="tv_vit", num_classes=5, create_kwargs={"image_size": 64})
    model = load_model(cfg, pretrained=False, device="cpu")
    # torchvision initialises the ViT head to zeros: every logit is 0 and every gradient vanishes
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        torch.nn.init.normal_(model.module.model.heads.head.weight, std=0.5)
    return model


@pytest.fixture(scope="module")
def hf_vit():
    cfg = adapter_cfg("transformers:ViTForImageClassification", name="hf_vit", num_classes=4,
                      create_kwargs=HF_VIT)  # fmt: skip
    return load_model(cfg, pretrained=False, device="cpu")


def _explain(model, name, side):
    n, params = (1, {"n_steps": 8}) if name == "ig" else (2, {})  # IG: few steps, one image is enough here
    x = torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(0))
    exp = create_explainer(name, **params)(model, x, torch.tensor([1, 2][:n]))
    a = exp.attributions
    assert a.shape == (n, side, side) and np.isfinite(a).all(), name
    assert float(a.std()) > 0, f"{name} on {model.label}: constant map"
    return exp


def test_torchvision_resnet_config(tv_resnet):
    cfg = tv_resnet.cfg
    assert cfg.target_layers == ("model.layer1", "model.layer2", "model.layer3", "model.layer4")
    assert cfg.strides == (4, 8, 16, 32) and cfg.layout == "nchw" and cfg.family == "cnn"
    assert "gap_linear_head" in cfg.traits and cfg.num_classes == 5 and cfg.source == "adapter"
    assert tv_resnet.weights.is_random and tv_resnet.label.endswith("_random")
    assert isinstance(tv_resnet.module, Adapted) and tv_resnet(torch.rand(1, 3, 64, 64)).shape == (1, 5)


@pytest.mark.parametrize("name", ["gradcam", "ig"])
def test_torchvision_resnet_explained(tv_resnet, name):
    assert get_explainer_cfg(name).supports(tv_resnet.cfg)
    exp = _explain(tv_resnet, name, 64)
    if name == "gradcam":
        assert exp.native_resolution == (2, 2)


@pytest.mark.parametrize("name", ["gradcam", "rollout"])  # IG's 50 steps on ViT-B/16 cost too much here
def test_torchvision_vit_explained(tv_vit, name):
    cfg = tv_vit.cfg
    assert cfg.layout == "tokens" and cfg.grid_size == (4, 4) and cfg.num_prefix_tokens == 1
    assert get_explainer_cfg(name).supports(cfg)
    exp = _explain(tv_vit, name, 64)
    assert exp.native_resolution == (4, 4) or name == "ig"


def test_hf_vit_config(hf_vit):
    cfg = hf_vit.cfg
    assert cfg.target_layers[-1].endswith(".3.layernorm_before")  # vit.layers (transformers 5), vit.encoder.layer
    assert cfg.grid_size == (4, 4) and cfg.patch_size == 8 and cfg.input_size == 32 and cfg.family == "transformer"


@pytest.mark.parametrize("name", ["gradcam", "ig", "rollout", "chefer"])
def test_hf_vit_explained(hf_vit, name):
    assert get_explainer_cfg(name).supports(hf_vit.cfg)
    exp = _explain(hf_vit, name, 32)
    assert exp.native_resolution == (4, 4) or name == "ig"


def test_hf_capture_gives_one_map_per_block(hf_vit):
    with hf_vit.module.harness_attention_capture() as maps, torch.no_grad():
        hf_vit(torch.rand(1, 3, 32, 32))
    assert len(maps) == 4 and maps[0].shape == (1, 2, 17, 17)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(1, 2, 17))


def test_underivable_torchvision_names_the_override():
    with pytest.raises(UnderivableConfig, match=r"cannot derive target_layers.*pass target_layers="):
        adapter_cfg(
            "torchvision:googlenet",
            num_classes=3,
            input_size=64,
            create_kwargs={"aux_logits": False, "init_weights": False},
        )
    with pytest.raises(ValueError, match="adapters are"):
        adapter_cfg("onnx:model")
