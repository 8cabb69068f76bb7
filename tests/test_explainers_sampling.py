"""LIME, Occlusion, SmoothGrad (noise tunnel) and GradientSHAP."""

import numpy as np
import pytest
import torch

from harness.explainers import ExplainerError, create_explainer
from harness.explainers.baselines import make_baseline
from harness.explainers.smoothing import noise_tunnel
from harness.models import load_model


@pytest.fixture(scope="module")
def models():
    return {n: load_model(n, device="cpu") for n in ("toy_resnet", "toy_vit", "toy_linear")}


def _x(seed=0, n=2, side=64):
    return torch.randn(n, 3, side, side, generator=torch.Generator().manual_seed(seed))


def test_lime_is_seeded_and_follows_superpixels(models):
    m, x = models["toy_vit"], _x(1, n=1)
    a = create_explainer("lime", n_samples=40, seed=1)(m, x, 0)
    b = create_explainer("lime", n_samples=40, seed=1)(m, x, 0)
    c = create_explainer("lime", n_samples=40, seed=2)(m, x, 0)
    np.testing.assert_array_equal(a.attributions, b.attributions)
    assert not np.array_equal(a.attributions, c.attributions)
    assert len(np.unique(a.attributions)) <= a.extras["n_superpixels"][0]


def test_occlusion_is_exact_on_the_linear_toy(models):
    """Non-overlapping windows: each pixel gets its window's w * (x - x0), summed over channels and window."""
    m, x = models["toy_linear"], _x(2)
    exp = create_explainer("occlusion", window=16, stride=16)(m, x, [2, 5])
    x0 = make_baseline(x, m.cfg, "black")
    contrib = ((x - x0) * m.module.weight.detach()[[2, 5]]).sum(1)  # [2, 64, 64]
    per_window = contrib.reshape(2, 4, 16, 4, 16).sum(dim=(2, 4))
    expected = per_window.repeat_interleave(16, 1).repeat_interleave(16, 2)
    np.testing.assert_allclose(exp.attributions, expected.numpy(), rtol=1e-4, atol=1e-6)


def test_smoothgrad_without_noise_is_the_base_method(models):
    m, x = models["toy_resnet"], _x(3)
    base = create_explainer("saliency")(m, x, [0, 1]).attributions
    smooth = create_explainer("smoothgrad", n_samples=2, stdev=0.0)(m, x, [0, 1]).attributions
    np.testing.assert_allclose(smooth, base, rtol=1e-6, atol=1e-9)
    noisy = create_explainer("smoothgrad", n_samples=3, stdev=0.2)(m, x, [0, 1]).attributions
    assert not np.allclose(noisy, base)


def test_noise_tunnel_wraps_any_explainer(models):
    m, x = models["toy_linear"], _x(4)
    ig = create_explainer("ig", n_steps=4)
    avg = noise_tunnel(m, x, torch.tensor([1, 2]), ig, n_samples=3, stdev=0.1, seed=0)
    assert avg.shape == (2, 64, 64) and torch.isfinite(avg).all()
    smooth_ig = create_explainer("smoothgrad", base="ig", n_samples=2)(m, x, [1, 2])
    assert smooth_ig.extras["base"] == "ig"
    with pytest.raises(ExplainerError, match="deterministic gradient method"):
        create_explainer("smoothgrad", base="kernelshap")(m, x, 0)


def test_gradientshap_is_exact_on_the_linear_toy(models):
    """Gradients of a linear model are constant: E[g * (x - x0)] = w * (x - x0) for a single baseline."""
    m, x = models["toy_linear"], _x(5)
    exp = create_explainer("gradientshap", baselines="black", stdev=0.0, n_samples=4)(m, x, [3, 4])
    x0 = make_baseline(x, m.cfg, "black")
    expected = ((x - x0) * m.module.weight.detach()[[3, 4]]).sum(1).numpy()
    np.testing.assert_allclose(exp.attributions, expected, rtol=1e-4, atol=1e-7)
    with pytest.raises(ExplainerError, match="image-independent"):
        create_explainer("gradientshap", baselines="blur")(m, x, 0)


def test_gradientshap_is_seeded(models):
    m, x = models["toy_resnet"], _x(6, n=1)
    a = create_explainer("gradientshap", seed=3)(m, x, 0).attributions
    b = create_explainer("gradientshap", seed=3)(m, x, 0).attributions
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["toy_resnet", "toy_vit"])
def test_gradientshap_in_chunks_is_captums_gradientshap(models, name, monkeypatch):
    """The expanded batch (2 images x 16 samples) goes through the model 8 rows at a time; Captum's own
    ``GradientShap`` under the same seeds draws the same points, so the maps agree to float tolerance."""
    from captum.attr import GradientShap

    import harness.explainers.smoothing as smoothing

    m, x, target = models[name], _x(7), torch.tensor([1, 4])
    calls = []
    chunked = smoothing.chunked_gradients(8)
    monkeypatch.setattr(smoothing, "chunked_gradients", lambda rows: lambda *a: calls.append(1) or chunked(*a))
    ours = create_explainer("gradientshap", baselines="black,noise", seed=2)(m, x, target).attributions
    assert calls, "GradientSHAP did not use the chunked gradient function"
    x0 = torch.cat([make_baseline(x[:1], m.cfg, kind, seed=2) for kind in ("black", "noise")])
    np.random.seed(2)
    torch.manual_seed(2)
    theirs = GradientShap(m.module).attribute(x, baselines=x0, n_samples=16, stdevs=0.1, target=target)
    np.testing.assert_allclose(ours, theirs.sum(1).detach().numpy(), rtol=1e-5, atol=1e-7)


def test_chunked_gradients_slice_per_row_targets(models):
    """A per-row target is cut with the rows; one target for all rows is kept; the gradients are the whole
    batch's."""
    from captum._utils.gradient import compute_gradients

    from harness.explainers.smoothing import chunked_gradients

    m = models["toy_resnet"]
    x = _x(8, n=5).requires_grad_()
    for target in (torch.tensor([0, 1, 2, 3, 4]), [4, 3, 2, 1, 0], 2):
        (whole,) = compute_gradients(m.module, (x,), target)
        (parts,) = chunked_gradients(2)(m.module, (x,), target)
        np.testing.assert_allclose(parts, whole, rtol=1e-5, atol=1e-8)
