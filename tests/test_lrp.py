"""LRP: conservation on bias-free toys, and patched modules restored."""

import numpy as np
import pytest
import torch

from harness.explainers import create_explainer
from harness.explainers.lrp_vit import identity_rule, lrp_rules, uniform_matmul
from harness.models import load_model

CONSERVATION_RTOL = 1e-3


def _x(seed=0, n=3, side=64):
    return torch.randn(n, 3, side, side, generator=torch.Generator().manual_seed(seed))


def _bias_free_vit():
    m = load_model("toy_vit", device="cpu")
    with torch.no_grad():
        for name, p in m.module.named_parameters():
            if name.endswith("bias") or name in ("pos_embed", "cls_token"):
                p.zero_()
    return m


def _assert_conserves(extras, key, *, rtol, case):
    __tracebackhide__ = True
    logit, rel = np.array(extras["logit"]), np.array(extras[key])
    err = np.abs(rel - logit).max() / np.abs(logit).max()
    assert err <= rtol, f"conservation: max |sum(R) - logit| / max|logit| = {err:.2e} > {rtol} [{case}]"


def test_rule_helpers_keep_values_and_split_relevance():
    a, b = torch.randn(3, 4, requires_grad=True), torch.randn(4, 2, requires_grad=True)
    z = uniform_matmul(a, b)
    torch.testing.assert_close(z, a @ b, rtol=0, atol=0)
    ga, gb = torch.autograd.grad(z.sum(), [a, b])
    torch.testing.assert_close((a * ga).sum() + (b * gb).sum(), z.sum())
    x = torch.randn(10, requires_grad=True)
    y = identity_rule(x, torch.nn.functional.gelu(x))
    torch.testing.assert_close(y, torch.nn.functional.gelu(x), rtol=0, atol=0)
    (g,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close((x * g).sum(), y.sum(), rtol=1e-5, atol=1e-6)


def test_cp_lrp_conserves_on_a_bias_free_vit():
    m = _bias_free_vit()
    exp = create_explainer("lrp_vit", rule="cp")(m, _x(), [1, 3, 5])
    _assert_conserves(exp.extras, "relevance_sum", rtol=CONSERVATION_RTOL, case="lrp_vit cp on bias-free toy_vit")
    np.testing.assert_allclose(exp.attributions.reshape(3, -1).sum(1), exp.extras["relevance_sum"], rtol=1e-4)


def test_attnlrp_softmax_absorbs_part_of_the_relevance():
    """The softmax rule is not conservative (AttnLRP, Prop. 3.1): what reaches the tokens is
    the value path's half plus a smaller softmax share, of the logit's sign."""
    m = _bias_free_vit()
    exp = create_explainer("lrp_vit")(m, _x(), [1, 3, 5])
    logit, rel = np.array(exp.extras["logit"]), np.array(exp.extras["token_relevance_sum"])
    ratio = rel / logit
    assert ((ratio > 0.25) & (ratio < 1.0)).all(), ratio


def test_lrp_vit_restores_modules_also_after_an_exception():
    m = load_model("toy_vit", device="cpu")
    x = _x(1)
    with torch.no_grad():
        before = m(x)
    with pytest.raises(RuntimeError, match="boom"):
        with lrp_rules(m.module):
            assert "forward" in m.module.blocks[0].attn.__dict__
            raise RuntimeError("boom")
    assert not any("forward" in mod.__dict__ or "_lrp_rule" in mod.__dict__ for mod in m.module.modules())
    create_explainer("lrp_vit")(m, x, 0)
    with torch.no_grad():
        torch.testing.assert_close(m(x), before, rtol=0, atol=0)


def test_lrp_vit_keeps_logits():
    m = load_model("toy_vit", device="cpu")
    x = _x(2)
    with torch.no_grad():
        ref = m(x)
        with lrp_rules(m.module):
            patched = m(x)
    torch.testing.assert_close(patched, ref, rtol=1e-5, atol=1e-6)


def test_cnn_lrp_conserves_without_head_bias():
    """Random-init timm ResNet: BatchNorms merge to bias-free convolutions; only the fc bias absorbs."""
    m = load_model("toy_resnet", device="cpu")
    torch.nn.init.zeros_(m.module.fc.bias)
    exp = create_explainer("lrp_cnn")(m, _x(3), [1, 3, 5])
    _assert_conserves(exp.extras, "relevance_sum", rtol=CONSERVATION_RTOL, case="lrp_cnn on toy_resnet")


def test_cnn_lrp_restores_the_model():
    m = load_model("toy_resnet", device="cpu")
    x = _x(4)
    with torch.no_grad():
        before = m(x)
    w = m.module.layer1[0].conv1.weight.detach().clone()
    a = create_explainer("lrp_cnn")(m, x, [0, 1, 2]).attributions
    b = create_explainer("lrp_cnn", composite="epsilon_alpha2_beta1_flat")(m, x, [0, 1, 2]).attributions
    assert a.shape == (3, 64, 64) and np.isfinite(a).all() and np.isfinite(b).all()
    torch.testing.assert_close(m.module.layer1[0].conv1.weight, w, rtol=0, atol=0)
    assert all(getattr(mod, "inplace", True) for mod in m.module.modules() if hasattr(mod, "inplace"))
    assert not any("canonizer_sum" in dict(mod.named_children()) for mod in m.module.modules())
    with torch.no_grad():
        torch.testing.assert_close(m(x), before, rtol=0, atol=0)
