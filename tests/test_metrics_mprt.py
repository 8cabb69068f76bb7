"""MPRT: the harness's metric equals plain ``quantus.MPRT`` (last correlation) on toy models.

Tolerance: 1e-6 absolute on Spearman correlations.  Both sides explain the
same fully randomised copy with the same harness explainer, so only float
reductions could differ.  Also checked: the control (model-independent
maps) scores exactly 1, randomisation leaves the global torch RNG alone,
and the metric is collected within its budget (zoo/toy models, cheap and
moderate explainers) unless opted in.
"""

import dataclasses

import numpy as np
import pytest
import torch

from conftest import toy_metric_batch
from harness.explainers import create_explainer, get_explainer_cfg
from harness.metrics import MetricInputs, get_metric, yield_metrics
from harness.metrics.mprt import mprt_reference, randomised
from harness.models import get_model_cfg, load_model

TOL = dict(abs=1e-6, rel=0)


@pytest.fixture(scope="module", params=["toy_resnet", "toy_vit"])
def setup(request):
    model = load_model(request.param, random_ok=True)
    x, y = toy_metric_batch(model)
    return model, x, y


def _explain(model, explainer):
    """``explain_func(model, inputs, targets)`` in Quantus's signature, through the harness explainer."""

    def fn(model=None, inputs=None, targets=None, _loaded=model, **kw):
        other = dataclasses.replace(_loaded, module=model)
        return explainer(other, torch.from_numpy(np.asarray(inputs)), torch.as_tensor(targets)).attributions

    return fn


@pytest.mark.parametrize("name", ["saliency", "ig"])
def test_mprt_equals_plain_quantus(setup, name):
    model, x, y = setup
    explainer = create_explainer(name)
    a = explainer(model, torch.from_numpy(x), torch.as_tensor(y)).attributions
    cfg, fn = get_metric("mprt")
    params = cfg.params()
    fx = _explain(model, explainer)
    explain_model = {
        name: lambda m: fx(model=m, inputs=x, targets=y),
        "control": lambda m: a,
    }  # model-independent: the same maps on any model
    ours = fn(MetricInputs(model.module, x, y, 10, explain_model=explain_model), {name: a, "control": a}, **params)
    ref = mprt_reference(model.module, x, y, a, fx, **params)
    assert ours[name] == pytest.approx(ref, nan_ok=True, **TOL), (
        f"mprt of {name} [{model.name}]: harness {ours[name]} vs Quantus {ref} (tolerance {TOL})"
    )
    assert np.all(np.abs(ref) < 0.999), f"randomising {model.name} left {name}'s maps unchanged: {ref}"
    assert ours["control"] == pytest.approx(1.0, abs=1e-12), "a model-independent map must score similarity 1"


def test_randomised_keeps_original_and_rng(setup):
    model, _, _ = setup
    before = {k: v.clone() for k, v in model.module.state_dict().items()}
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    r1 = randomised(model.module, seed=42)
    assert torch.equal(torch.rand(3), expected), "randomised() must restore the global torch RNG"
    r2 = randomised(model.module, seed=42)
    after = model.module.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "the trained module was modified"
    s1, s2 = r1.state_dict(), r2.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1), "same seed must give the same randomised model"
    weights = [k for k in s1 if k.endswith("weight") and s1[k].ndim >= 2]  # conv and linear kernels
    kept = [k for k in weights if torch.equal(s1[k], before[k])]
    assert weights and not kept, f"{len(kept)} of {len(weights)} conv/linear kernels kept their values: {kept[:3]}"
    with pytest.raises(ValueError, match="layer_order"):
        randomised(model.module, seed=42, layer_order="independent")


def test_constant_map_scores_nan_not_error():
    from scipy.stats import spearmanr

    from harness.metrics.mprt import _similarity

    rng = np.random.default_rng(0)
    a, b = rng.random((3, 1, 8, 8)), rng.random((3, 1, 8, 8))
    b[1] = 0.0  # an all-zero map of the randomised model
    s = _similarity(a, b)
    assert np.isnan(s[1]) and s[[0, 2]] == pytest.approx([spearmanr(a[i].ravel(), b[i].ravel())[0] for i in (0, 2)])


def test_mprt_is_collected_within_its_budget():
    def names(model, explainer, **kw):
        cfgs = yield_metrics(get_model_cfg(model), get_explainer_cfg(explainer), has_masks=False, **kw)
        return {c.name for c in cfgs}

    assert "mprt" in names("zoo_resnet", "gradcam") and "mprt" in names("toy_resnet", "saliency")
    assert "mprt" not in names("efficientnet_lite0", "gradcam")
    assert "random_logit" in names("efficientnet_lite0", "gradcam")
    assert "mprt" not in names("zoo_resnet", "ig") and "mprt" not in names("zoo_resnet", "kernelshap")
    assert "mprt" in names("efficientnet_lite0", "ig", opt_in={"mprt"})
    assert "mprt" in names("zoo_resnet", "kernelshap", opt_in={"*"})
