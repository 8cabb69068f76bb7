"""Attention capture under timm's fused attention, rollout and Chefer's gradient-weighted rollout."""

import numpy as np
import pytest
import torch

from harness.explainers import create_explainer, get_explainer_cfg
from harness.explainers.attention import attention_capture, attention_modules, chefer_relevance, rollout
from harness.models import get_model_cfg, load_model


@pytest.fixture(scope="module")
def vit():
    return load_model("toy_vit", device="cpu")


def _x(seed=0, n=2, side=64):
    return torch.randn(n, 3, side, side, generator=torch.Generator().manual_seed(seed))


def test_capture_under_fused_attention_keeps_outputs_and_restores_flags(vit):
    mods = attention_modules(vit.module)
    assert len(mods) == 6
    for m in mods:
        m.fused_attn = True  # what timm picks on torch >= 2: scaled_dot_product_attention, no probabilities
    x = _x()
    with torch.no_grad():
        fused = vit(x)
        with attention_capture(vit.module) as maps:
            assert all(m.fused_attn is False for m in mods)
            captured = vit(x)
        after = vit(x)
    assert len(maps) == 6 and maps[0].shape == (2, 2, 17, 17)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(2, 2, 17))
    # the unfused path computes the same function: equal up to float rounding (fused kernels reorder sums)
    torch.testing.assert_close(captured, fused, rtol=1e-5, atol=1e-6)
    # after the context the model is the fused model again, bit for bit
    torch.testing.assert_close(after, fused, rtol=0, atol=0)
    assert all(m.fused_attn is True for m in mods)
    assert all(not m.attn_drop._forward_hooks for m in mods)


def test_capture_restores_flags_after_an_exception(vit):
    mods = attention_modules(vit.module)
    flags = [True, False, True, False, True, False]
    for m, f in zip(mods, flags):
        m.fused_attn = f
    with pytest.raises(RuntimeError, match="boom"):
        with attention_capture(vit.module):
            raise RuntimeError("boom")
    assert [m.fused_attn for m in mods] == flags
    assert all(not m.attn_drop._forward_hooks for m in mods)
    for m in mods:
        m.fused_attn = True


def test_rollout_matches_a_hand_computation():
    """Two blocks, one head, 2 tokens: (A + I)/2 row-normalised, multiplied."""
    a1 = torch.tensor([[[[0.5, 0.5], [0.25, 0.75]]]])
    a2 = torch.tensor([[[[1.0, 0.0], [0.5, 0.5]]]])
    # block 1: (A1 + I)/2 = [[.75, .25], [.125, .875]]; block 2: [[1, 0], [.25, .75]]
    expected = torch.tensor([[1.0, 0.0], [0.25, 0.75]]) @ torch.tensor([[0.75, 0.25], [0.125, 0.875]])
    torch.testing.assert_close(rollout([a1, a2])[0], expected)


def test_rollout_head_fusion_and_discard():
    heads = torch.tensor([[[[0.9, 0.1], [0.2, 0.8]], [[0.1, 0.9], [0.6, 0.4]]]])
    one = lambda fusion: rollout([heads], fusion=fusion)[0]  # noqa: E731
    torch.testing.assert_close(one("mean"), ((heads.mean(1)[0] + torch.eye(2)) / 2))
    torch.testing.assert_close(
        one("max")[0],
        (torch.tensor([0.9, 0.9]) + torch.tensor([1.0, 0.0]))
        / (torch.tensor([0.9, 0.9]) + torch.tensor([1.0, 0.0])).sum(),
    )
    # discarding half of the entries zeroes the two smallest (never entry 0): [[.5, .5], [.6, .8]] fused mean
    kept = rollout([heads], discard_ratio=0.5)[0]
    fused = heads.mean(1)[0].clone()  # [[.5, .5], [.4, .6]]; smallest two: .4 and .5 (index 1)
    fused[1, 0] = 0
    fused[0, 1] = 0
    a = (fused + torch.eye(2)) / 2
    torch.testing.assert_close(kept, a / a.sum(-1, keepdim=True))


def test_chefer_identity_when_gradients_vanish():
    maps = [torch.rand(1, 2, 3, 3)]
    torch.testing.assert_close(chefer_relevance(maps, [torch.zeros_like(maps[0])])[0], torch.eye(3))


def test_attention_explainers_follow_the_target(vit):
    x = _x(1)
    a = create_explainer("chefer")(vit, x, [0, 0]).attributions
    b = create_explainer("chefer")(vit, x, [5, 5]).attributions
    assert not np.allclose(a, b)
    r0 = create_explainer("rollout")(vit, x, [0, 0]).attributions
    r5 = create_explainer("rollout")(vit, x, [5, 5]).attributions
    np.testing.assert_array_equal(r0, r5)  # class-agnostic by construction (a KNOWN_FAILURES entry)


@pytest.mark.parametrize("fusion", ["mean", "max", "min"])
def test_rollout_contract_per_fusion(vit, fusion):
    exp = create_explainer("rollout", head_fusion=fusion)(vit, _x(), 0)
    assert exp.attributions.shape == (2, 64, 64) and exp.native_resolution == (4, 4)
    assert np.isfinite(exp.attributions).all() and exp.attributions.std() > 0


def test_attention_methods_select_uniform_patch_token_models():
    for name in ("rollout", "chefer", "lrp_vit"):
        cfg = get_explainer_cfg(name)
        assert cfg.needs_tokens
        assert cfg.supports(get_model_cfg("zoo_vit_p16")) and cfg.supports(get_model_cfg("zoo_deit_distilled"))
        for other in ("zoo_swin", "zoo_pvt_v2", "zoo_resnet", "toy_resnet"):
            assert not cfg.supports(get_model_cfg(other)), (name, other)


def test_distilled_deit_uses_both_prefix_tokens():
    m = load_model("zoo_deit_distilled", device="cpu")
    exp = create_explainer("chefer")(m, _x(2, n=1, side=224), 0)
    assert exp.native_resolution == (14, 14)
