"""Unit tests of the property checks (issue 4) on toy models: fast, Hypothesis-driven where it helps."""

import numpy as np
import pytest
import torch
from hypothesis import given

from harness.checks import axioms, sanity
from harness.checks.basic import CheckFailure
from harness.checks.resolution import check_shallower_is_larger
from harness.checks.strategies import baselines, smooth_inputs, targets
from harness.explainers import RawExplanation, create_explainer, register_explainer
from harness.explainers.registry import EXPLAINERS, ExplainerCfg, get_explainer_cfg
from harness.models import load_model
from harness.models.toy import TOY_CLASSES, TOY_SIZE


@pytest.fixture(scope="module")
def linear():
    return load_model("toy_linear", device="cpu")


@given(x=smooth_inputs(TOY_SIZE), baseline=baselines, target=targets(TOY_CLASSES))
def test_ig_is_exact_on_the_linear_toy(linear, x, baseline, target):
    case = f"ig on {linear.label}, baseline {baseline}"
    ex = create_explainer("ig", baseline=baseline, n_steps=4)
    axioms.check_linear_exact(linear, ex, x, target, case=case)
    c = axioms.measure(linear, ex, x, torch.tensor([target]))
    axioms.assert_complete(c, case=case, rtol=axioms.EXACT_RTOL, atol=axioms.EXACT_ATOL)


def test_completeness_applies_by_tags():
    assert axioms.applies(get_explainer_cfg("ig"))
    assert not axioms.applies(get_explainer_cfg("saliency")) and not axioms.applies(get_explainer_cfg("gradcam"))


@pytest.fixture
def ig_times_two():
    cfg = ExplainerCfg(
        name="ig_x2",
        title="IG scaled by 2 (broken on purpose)",
        group="test",
        multiplies_by_inputs=True,
        has_baseline=True,
        defaults=get_explainer_cfg("ig").defaults,
    )

    @register_explainer(cfg)
    def ig_x2(model, x, target, **params):
        raw = EXPLAINERS.get("ig")[1](model, x, target, **params)
        return RawExplanation(attributions=2 * raw.attributions)

    yield create_explainer("ig_x2", n_steps=8)
    EXPLAINERS.remove("ig_x2")


def test_broken_explainer_fails_completeness(linear, ig_times_two):
    """Attributions scaled by 2 break completeness; the message names case, value and tolerance."""
    assert axioms.applies(ig_times_two.cfg)
    from harness.explainers.baselines import make_baseline

    w = linear.module.weight.detach()[2:3]
    x = make_baseline(torch.zeros(1, 3, TOY_SIZE, TOY_SIZE), linear.cfg, "black") + 2 * torch.sign(w)  # gap ~ 1
    c = axioms.measure(linear, ig_times_two, x, torch.tensor([2]))
    with pytest.raises(
        CheckFailure,
        match=r"completeness: \|sum\(attr\) - \(f\(x\) - f\(x0\)\)\| = [-\d.e]+ > "
        r"[-\d.e]+ \(= 0\.05 \* \|[-\d.e]+\| \+ 0\.01.*\[ig_x2 on toy_linear",
    ):
        axioms.assert_complete(c, case=f"ig_x2 on {linear.label}")
    np.testing.assert_allclose(c.sums, 2 * c.gaps, rtol=1e-3)  # exactly twice the gap on the linear toy


def test_convergence_on_a_small_cnn():
    model = load_model("toy_resnet", device="cpu")
    x = torch.randn(1, 3, TOY_SIZE, TOY_SIZE, generator=torch.Generator().manual_seed(0))
    errs = axioms.check_convergence(model, "ig", x, torch.tensor([1]), steps=(4, 64), case="ig on toy_resnet")
    assert errs[64] <= errs[4] + axioms.CONVERGENCE_SLACK


def test_resolution_order():
    check_shallower_is_larger({25: (56, 56), 50: (28, 28), 75: (14, 14), 100: (7, 7)}, hierarchical=True, case="t")
    check_shallower_is_larger({25: (14, 14), 50: (14, 14), 75: (14, 14), 100: (14, 14)}, hierarchical=False, case="t")
    with pytest.raises(CheckFailure, match="not larger"):
        check_shallower_is_larger({25: (7, 7), 50: (7, 7), 75: (7, 7), 100: (7, 7)}, hierarchical=True, case="t")
    with pytest.raises(CheckFailure, match="smaller than"):
        check_shallower_is_larger({25: (7, 7), 50: (14, 14), 75: (7, 7), 100: (7, 7)}, hierarchical=False, case="t")


def test_randomisation_flags_a_model_independent_explainer():
    from harness.explainers.registry import Explainer

    model = load_model("toy_resnet", device="cpu")
    x = torch.randn(2, 3, TOY_SIZE, TOY_SIZE, generator=torch.Generator().manual_seed(1))
    control = Explainer(
        cfg=ExplainerCfg(name="input_intensity", title="c", group="c"),
        params=(),
        fn=lambda m, x, t: RawExplanation(attributions=x.abs().sum(1)),
    )
    with pytest.raises(CheckFailure, match=r"randomisation: .* 1\.000 >= 0\.70 .*\[input_intensity on toy_resnet"):
        sanity.check_randomisation(model, control, x, torch.tensor([0, 1]), seed=0)
    curve = sanity.check_randomisation(model, create_explainer("gradcam"), x, torch.tensor([0, 1]), seed=0)
    assert curve[0] == 1.0 and len(curve) >= 3


@pytest.fixture(scope="module")
def toy_vit():
    return load_model("toy_vit", device="cpu")


def test_vit_cp_rules_conserve_at_every_block(toy_vit):
    """CP rules, additive constants zeroed: every block output, the tokens and the pixels sum to the logit."""
    from harness.checks import conservation_vit

    x = torch.randn(2, 3, TOY_SIZE, TOY_SIZE, generator=torch.Generator().manual_seed(0))
    out = conservation_vit.check_conservation(toy_vit, x, torch.tensor([0, 1]), rule="cp", case="toy")
    assert set(out["zero_bias"]) == {f"blocks.{i}" for i in range(len(toy_vit.module.blocks))} | {"tokens", "input"}
    assert max(out["zero_bias"].values()) <= conservation_vit.CONSERVATIVE_RTOL
    # biases kept: the embedding's constants absorb relevance; measured, not asserted by the check
    assert abs(out["bias_kept"]["input"]) > conservation_vit.CONSERVATIVE_RTOL, out["bias_kept"]


def test_vit_softmax_rule_is_flagged(toy_vit):
    """AttnLRP's softmax rule is not conservative even without biases: the check names the cut and the gap."""
    from harness.checks import conservation_vit

    x = torch.randn(2, 3, TOY_SIZE, TOY_SIZE, generator=torch.Generator().manual_seed(0))
    with pytest.raises(
        CheckFailure,
        match=r"conservation: relevance at blocks\.\d sums to .* > 0\.001 .*"
        r"\[lrp_vit rule=attnlrp, biases zeroed, on toy_vit",
    ):
        conservation_vit.check_conservation(toy_vit, x, torch.tensor([0, 1]), rule="attnlrp", case="toy")
