import numpy as np
import pytest
import torch

from harness.explainers import (
    ExplainerError,
    RawExplanation,
    create_explainer,
    get_explainer_cfg,
    list_explainers,
    register_explainer,
)
from harness.explainers.baselines import make_baseline
from harness.explainers.registry import EXPLAINERS, ExplainerCfg
from harness.models import load_model


@pytest.fixture(scope="module")
def models():
    return {n: load_model(n, device="cpu") for n in ("toy_resnet", "toy_vit", "toy_efficientnet", "toy_linear")}


def _x(seed=0, n=2, side=64):
    return torch.randn(n, 3, side, side, generator=torch.Generator().manual_seed(seed))


FAST = {"ig": {"n_steps": 8}, "kernelshap": {"n_samples": 40}}


def test_registry_lists_the_foundation_set():
    assert set(list_explainers()) >= {"ig", "gradcam", "kernelshap", "saliency"}
    assert get_explainer_cfg("ig").multiplies_by_inputs and get_explainer_cfg("ig").has_baseline
    assert get_explainer_cfg("kernelshap").stochastic
    with pytest.raises(KeyError, match="did you mean gradcam"):
        get_explainer_cfg("gradcm")


@pytest.mark.parametrize("model", ["toy_resnet", "toy_vit", "toy_efficientnet", "toy_linear"])
@pytest.mark.parametrize("name", ["saliency", "ig", "gradcam", "kernelshap"])
def test_output_contract(models, model, name):
    exp = create_explainer(name, **FAST.get(name, {}))(models[model], _x(), [1, 3])
    assert exp.attributions.shape == (2, 64, 64) and exp.attributions.dtype == np.float32
    assert np.isfinite(exp.attributions).all()
    assert list(exp.targets) == [1, 3]
    assert (
        exp.seconds > 0
        and exp.explainer == name
        and exp.params == create_explainer(name, **FAST.get(name, {})).param_dict
    )


def test_ig_is_exact_on_the_linear_toy(models):
    """IG of a linear model is (x - x0) * w, summed over channels here."""
    model, x = models["toy_linear"], _x(3)
    exp = create_explainer("ig", n_steps=4, baseline="black")(model, x, [2, 5])
    x0 = make_baseline(x, model.cfg, "black")
    w = model.module.weight.detach()
    expected = ((x - x0) * w[[2, 5]]).sum(1).numpy()
    np.testing.assert_allclose(exp.attributions, expected, rtol=1e-4, atol=1e-7)
    with torch.no_grad():
        gap = (model(x) - model(x0)).gather(1, torch.tensor([[2], [5]]))[:, 0].numpy()
    np.testing.assert_allclose(exp.attributions.reshape(2, -1).sum(1), gap, rtol=1e-4)


def test_gradcam_keeps_native_grid(models):
    vit = create_explainer("gradcam")(models["toy_vit"], _x(), 0)
    assert vit.native_resolution == (4, 4) and vit.native.shape == (2, 4, 4)
    res = create_explainer("gradcam")(models["toy_resnet"], _x(), 0)
    assert res.native_resolution == (2, 2)
    shallow = create_explainer("gradcam", depth=25)(models["toy_resnet"], _x(), 0)
    assert shallow.native_resolution[0] > res.native_resolution[0]


def test_gradcam_unknown_layer_is_clear(models):
    with pytest.raises(ValueError, match="toy_resnet: no layer 'nope'"):
        create_explainer("gradcam", layer="nope")(models["toy_resnet"], _x(), 0)


def test_kernelshap_is_seeded(models):
    m, x = models["toy_resnet"], _x(1, n=1)
    a = create_explainer("kernelshap", n_samples=30, seed=1)(m, x, 0).attributions
    b = create_explainer("kernelshap", n_samples=30, seed=1)(m, x, 0).attributions
    c = create_explainer("kernelshap", n_samples=30, seed=2)(m, x, 0).attributions
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_unknown_parameter_rejected():
    with pytest.raises(ExplainerError, match=r"ig: unknown parameter\(s\) \['steps'\]"):
        create_explainer("ig", steps=3)


def test_contract_violation_is_reported(models):
    cfg = ExplainerCfg(name="broken_probe", title="broken", group="test")

    @register_explainer(cfg)
    def broken(model, x, target):
        return RawExplanation(attributions=torch.zeros(x.shape[0], 7, 7))

    try:
        with pytest.raises(ExplainerError, match=r"broken_probe on toy_resnet_random: attribution shape \(2, 7, 7\)"):
            create_explainer("broken_probe")(models["toy_resnet"], _x(), 0)
    finally:
        EXPLAINERS.remove("broken_probe")


def test_wrong_number_of_targets(models):
    with pytest.raises(ExplainerError, match="3 targets for a batch of 2"):
        create_explainer("saliency")(models["toy_resnet"], _x(), [0, 1, 2])


@pytest.mark.parametrize("kind", ["black", "blur", "noise", "zero"])
def test_baselines_keep_shape_and_differ_from_input(models, kind):
    x = _x()
    x0 = make_baseline(x, models["toy_resnet"].cfg, kind)
    assert x0.shape == x.shape and not torch.equal(x0, x)
