"""Wired oracle models: exact attributions with stated tolerances (issue 26, item 4)."""

import pytest
import torch
from hypothesis import given, seed

from harness.checks import oracle as checks
from harness.checks.basic import CheckFailure
from harness.checks.strategies import patch_sets, smooth_inputs, targets, weight_seeds
from harness.core.seeds import seed_for
from harness.explainers import create_explainer
from harness.models import get_model_cfg, list_models, load_model
from harness.models.loading import LoadedModel
from harness.models.oracle import (
    CANCEL_A,
    CANCEL_B,
    ORACLE_SIZE,
    ORACLE_TRUTHS,
    VIT_PATCH,
    VIT_PATCHES,
    BiasFreeReLUOracle,
    blocky_input,
    build_vit_oracle,
    cancel_input,
)
from harness.models.weights import WeightsSource
from harness.suite import suite_models

N_PATCHES = (ORACLE_SIZE // VIT_PATCH) ** 2


def _loaded(name: str, module: torch.nn.Module) -> LoadedModel:
    return LoadedModel(
        cfg=get_model_cfg(name),
        module=module.eval(),
        weights=WeightsSource("hand", None, name),
        device=torch.device("cpu"),
    )


@pytest.fixture(scope="module")
def oracles():
    return {n: load_model(n, device="cpu") for n in list_models(source="oracle")}


def test_oracles_are_registered_hand_wired_and_left_out_of_the_generic_suites(oracles):
    assert set(oracles) == set(ORACLE_TRUTHS) == {"oracle_linear", "oracle_relu", "oracle_cancel", "oracle_vit"}
    assert all(m.weights.kind == "hand" and not m.weights.is_random for m in oracles.values())
    assert not set(oracles) & set(suite_models())


def test_linear_oracle_logit_is_the_stated_linear_function(oracles):
    for name in ("oracle_linear", "oracle_vit"):
        m = oracles[name]
        x = blocky_input(3)
        with torch.no_grad():
            logit = m(x)[0, 0]
            zero = m(torch.zeros_like(x))[0, 0]
        want = (m.module.oracle_weight * x[0]).sum() + zero
        assert abs(float(logit - want)) <= 1e-5 * abs(float(want)), name
        assert float((m.module.oracle_weight * (1 - m.module.oracle_region)).abs().sum()) == 0.0, name


@pytest.mark.parametrize("explainer", ["ig", "saliency", "smoothgrad", "occlusion", "kernelshap"])
@pytest.mark.parametrize("model", ["oracle_linear", "oracle_vit"])
def test_closed_forms_on_the_linear_oracles(oracles, model, explainer):
    m = oracles[model]
    x = blocky_input(0)
    ex = create_explainer(explainer)(m, x, 0)
    out = checks.check_exact(ex=ex, weight=m.module.oracle_weight, x=x, case=f"{explainer} on {model}")
    assert out["rel_error"] <= checks.EXACT[explainer].rtol


def test_exact_check_fails_on_a_wrong_map(oracles):
    m = oracles["oracle_linear"]
    x = blocky_input(0)
    ex = create_explainer("ig")(m, x, 0)
    ex.attributions = ex.attributions * 1.01
    with pytest.raises(CheckFailure, match=r"oracle exact: .* > 1e-05 .*\[ig on oracle_linear\]"):
        checks.check_exact(ex=ex, weight=m.module.oracle_weight, x=x, case="ig on oracle_linear")


@seed(seed_for("tests/test_oracle.py::test_ig_equals_input_x_gradient_on_bias_free_relu_nets"))
@given(weights=weight_seeds, x=smooth_inputs(ORACLE_SIZE), target=targets(2))
def test_ig_equals_input_x_gradient_on_bias_free_relu_nets(weights, x, target):
    """Hesse et al. 2021: f(a x) = a f(x) for a > 0, so the gradient is constant on the ray and IG == IxG."""
    m = _loaded("oracle_relu", BiasFreeReLUOracle(seed=weights))
    t = torch.tensor([target])
    ig = torch.as_tensor(create_explainer("ig", n_steps=8)(m, x, t).attributions)
    checks.check_ig_equals_ixg(ig=ig, ixg=checks.input_x_gradient(m.module, x, t), case=f"ig on relu seed {weights}")


def test_ig_differs_from_input_x_gradient_once_biases_are_added():
    """The control: the same net with biases is not homogeneous, and the check catches it."""
    module = BiasFreeReLUOracle(seed=1)
    conv = module.features[0]
    conv.bias = torch.nn.Parameter(torch.full((conv.out_channels,), -0.3))
    m = _loaded("oracle_relu", module)
    x = blocky_input(0)
    ig = torch.as_tensor(create_explainer("ig")(m, x, 0).attributions)
    with pytest.raises(CheckFailure, match=r"IG == Input x Gradient: .*\[ig on biased relu\]"):
        checks.check_ig_equals_ixg(
            ig=ig, ixg=checks.input_x_gradient(m.module, x, torch.tensor([0])), case="ig on biased relu"
        )


@seed(seed_for("tests/test_oracle.py::test_rollout_and_chefer_recover_the_wired_patches"))
@given(patches=patch_sets(N_PATCHES))
def test_rollout_and_chefer_recover_the_wired_patches(patches):
    m = _loaded("oracle_vit", build_vit_oracle(patches))
    x = blocky_input(0)
    for explainer in ("rollout", "chefer"):
        ex = create_explainer(explainer)(m, x, 0)
        out = checks.check_patches(ex=ex, patches=torch.tensor(patches), case=f"{explainer} on vit {patches}")
        assert out["max_other"] < 1e-6 < out["min_wired"], (explainer, patches, out)


def test_rollout_wiring_is_exact_at_the_registered_patches(oracles):
    """One block: the class-token row is (A + I) / 2, so each wired patch gets 1 / (2 |S|), the others 0."""
    ex = create_explainer("rollout")(oracles["oracle_vit"], blocky_input(0), 0)
    native = torch.as_tensor(ex.native)[0].flatten()
    want = torch.zeros(N_PATCHES)
    want[list(VIT_PATCHES)] = 0.5 / len(VIT_PATCHES)
    assert torch.allclose(native, want, atol=1e-6)


def test_cancelling_oracle_has_zero_gradients_and_shapley_signs(oracles):
    m = oracles["oracle_cancel"]
    x = cancel_input(0)
    for explainer in ("saliency", "ig"):
        assert float(abs(create_explainer(explainer)(m, x, 0).attributions).max()) == 0.0, explainer
    assert float(checks.input_x_gradient(m.module, x, torch.tensor([0])).abs().max()) == 0.0
    # the model uses both regions: removing B (to black) lifts the logit from 0 to s_A = 0.5
    removed = x.clone()
    removed[..., CANCEL_B[0], CANCEL_B[1]] = 0.0
    with torch.no_grad():
        assert float(m(x)[0, 0]) == 0.0 and abs(float(m(removed)[0, 0]) - 0.5) < 1e-6
    ex = create_explainer("kernelshap")(m, x, 0)
    out = checks.check_cancelling(
        ex=ex, a=m.module.oracle_region_a, b=m.module.oracle_region_b, case="kernelshap on oracle_cancel"
    )
    assert out["mean_a"] > 0 > out["mean_b"]
    assert CANCEL_A != CANCEL_B
