"""CAM family: CAM, Grad-CAM at fixed depths, Grad-CAM++, Score-CAM, Ablation-CAM."""

import numpy as np
import pytest
import torch

from harness.explainers import ExplainerError, create_explainer, get_explainer_cfg
from harness.explainers.cam_perturb import _channel_mask, top_channels
from harness.models import get_model_cfg, load_model

CAMS = ["cam", "gradcam_d25", "gradcam_d50", "gradcam_d75", "gradcampp", "scorecam", "ablationcam"]


@pytest.fixture(scope="module")
def models():
    return {n: load_model(n, device="cpu") for n in ("toy_resnet", "toy_vit", "toy_efficientnet", "toy_linear")}


def _x(seed=0, n=2, side=64):
    return torch.randn(n, 3, side, side, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("name", "model"),
    [
        (n, m)
        for n in CAMS
        for m in ("toy_resnet", "toy_vit", "toy_efficientnet")
        if get_explainer_cfg(n).supports(get_model_cfg(m))  # unsupported pairs are deselected by tags
    ],
)
def test_cam_family_output_contract(models, model, name):
    m = models[model]
    exp = create_explainer(name)(m, _x(), [1, 3])
    assert exp.attributions.shape == (2, 64, 64) and np.isfinite(exp.attributions).all()
    assert exp.native is not None and exp.native.shape[0] == 2
    assert exp.attributions.std() > 0, f"{name} on {model}: constant map"


def test_cam_is_declared_only_for_gap_linear_heads():
    cam = get_explainer_cfg("cam")
    assert cam.requires == ("gap_linear_head",)
    assert cam.supports(get_model_cfg("toy_resnet")) and cam.supports(get_model_cfg("zoo_pvt_v2"))
    for name in ("toy_vit", "toy_linear", "zoo_convnext", "zoo_mobilenetv3", "zoo_swin", "zoo_vit_p16"):
        assert not cam.supports(get_model_cfg(name)), name


def test_cam_equals_gradcam_for_gap_linear_heads(models):
    """With logits = W mean(A) + b, Grad-CAM's weights are W[c] / (h w): Grad-CAM = relu(CAM) / (h w)."""
    m, x = models["toy_resnet"], _x(1)
    cam = create_explainer("cam")(m, x, [2, 4])
    grad = create_explainer("gradcam")(m, x, [2, 4])
    h, w = cam.native_resolution
    np.testing.assert_allclose(grad.native, np.maximum(cam.native, 0) / (h * w), rtol=1e-4, atol=1e-7)
    with torch.no_grad():
        logits = m(x)
    bias = m.module.get_classifier().bias.detach()[[2, 4]]
    np.testing.assert_allclose(
        cam.native.mean(axis=(1, 2)), (logits[[0, 1], [2, 4]] - bias).numpy(), rtol=1e-4, atol=1e-6
    )


def test_cam_rejects_a_head_that_is_not_gap_linear(models):
    m = load_model("toy_resnet", device="cpu")
    m.module.fc = torch.nn.Sequential(torch.nn.Linear(96, 10), torch.nn.ReLU())
    with pytest.raises(ExplainerError, match="classifier is Sequential"):
        create_explainer("cam")(m, _x(), 0)


@pytest.mark.parametrize("depth", [25, 50, 75])
def test_gradcam_depth_variants_match_the_depth_parameter(models, depth):
    m, x = models["toy_resnet"], _x(2)
    fixed = create_explainer(f"gradcam_d{depth}")(m, x, [0, 1])
    param = create_explainer("gradcam", depth=depth)(m, x, [0, 1])
    np.testing.assert_array_equal(fixed.attributions, param.attributions)
    assert fixed.extras["layer"] == m.cfg.target_layer(depth)


def test_gradcampp_differs_from_gradcam_but_agrees_in_support(models):
    m, x = models["toy_resnet"], _x(3)
    pp = create_explainer("gradcampp", depth=50)(m, x, [0, 1]).native
    gc = create_explainer("gradcam", depth=50)(m, x, [0, 1]).native
    assert not np.allclose(pp, gc)
    assert (pp >= 0).all() and (gc >= 0).all()


def test_top_channels_picks_largest_means():
    a = torch.zeros(5, 2, 2)
    a[3] += 2
    a[1] += 1
    assert top_channels(a, 2).tolist() == [3, 1]
    assert top_channels(a, 0).tolist() == [0, 1, 2, 3, 4]


def test_ablation_mask_spares_prefix_tokens():
    cfg = get_model_cfg("zoo_deit_distilled")
    keep = torch.ones(1, 4)
    keep[0, 2] = 0
    full = _channel_mask(keep, torch.zeros(1, 2 + 9, 4), cfg)
    assert full[0, :2].eq(1).all() and full[0, 2:, 2].eq(0).all() and full[0, 2:, :2].eq(1).all()


def test_scorecam_channel_cap_changes_cost_not_contract(models):
    m, x = models["toy_resnet"], _x(4, n=1)
    few = create_explainer("scorecam", n_channels=4)(m, x, 0)
    every = create_explainer("scorecam", n_channels=0)(m, x, 0)
    assert few.attributions.shape == every.attributions.shape == (1, 64, 64)
    assert not np.allclose(few.native, every.native)


def test_ablationcam_of_an_uninfluential_channel_is_zero(models):
    """Ablating channels that the head ignores cannot change the score: weight 0, empty map."""
    m = load_model("toy_resnet", device="cpu")
    with torch.no_grad():
        m.module.fc.weight.zero_()
    exp = create_explainer("ablationcam", n_channels=8)(m, _x(5, n=1), 0)
    assert np.abs(exp.native).max() == 0
