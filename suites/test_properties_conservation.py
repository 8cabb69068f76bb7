"""LRP relevance conservation (issue 4, item 3).

CNNs: zennit composites with canonizers, checked at every target-layer cut
(25/50/75/100 % depth) and at the pixels (:mod:`harness.checks.conservation`).
Transformers: the registered ViT LRP explainer (``lrp_vit``, AttnLRP rules)
reports the logit and the pixel and token relevance sums; they are checked
against the logit with the stated tolerance.
"""

import numpy as np
import pytest
import torch

from harness.checks import conservation, known_failure
from harness.checks.basic import CheckFailure
from harness.explainers import create_explainer, list_explainers
from harness.models import get_model_cfg
from harness.plugin import PROP_CASE
from harness.suite import model_marks, suite_models

N_IMAGES = 4
VIT_RTOL = 0.05  # relative to |logit|: AttnLRP lets biases absorb, so it is near-conservative, not exact
CNN_MODELS = [m for m in suite_models() if conservation.supports(get_model_cfg(m))]
VIT_MODELS = [m for m in suite_models() if get_model_cfg(m).patch_size and get_model_cfg(m).family == "transformer"]


def _inputs(harness, model):
    run = harness.runner
    recs = list(run.images_for(model).records[:N_IMAGES])
    x = run._batch(model, recs)
    with torch.no_grad():
        return x, run.model(model)(x).argmax(1)


def _record(request, label, explainer, check, value):
    request.node.user_properties.append((PROP_CASE, {
        "id": request.node.callspec.id, "model": label, "explainer": explainer, "check": check, "value": value}))


@pytest.mark.parametrize(("model", "composite"), [
    pytest.param(m, c, marks=model_marks(m), id=f"lrp_zennit_{c}-{m}-check_conservation")
    for m in CNN_MODELS for c in conservation.COMPOSITES])
def test_cnn_conservation(request, harness, model, composite):
    from harness.suite import _skip_without_weights

    _skip_without_weights(request, harness, model)
    x, target = _inputs(harness, model)
    loaded = harness.runner.model(model)
    out = conservation.check_conservation(loaded, x, target, composite=composite, case=request.node.callspec.id)
    _record(request, loaded.label, f"lrp_zennit_{composite}", "check_conservation", out)


@pytest.mark.skipif("lrp_vit" not in list_explainers(), reason="no transformer LRP explainer registered")
@pytest.mark.parametrize("model", [
    pytest.param(m, id=f"lrp_vit-{m}-check_conservation", marks=model_marks(m) + (
        [pytest.mark.xfail(reason=known_failure("lrp_vit", m, "check_conservation"), strict=True, raises=CheckFailure)]
        if known_failure("lrp_vit", m, "check_conservation") else []))
    for m in VIT_MODELS])
def test_vit_conservation(request, harness, model):
    from harness.suite import _skip_without_weights

    _skip_without_weights(request, harness, model)
    x, target = _inputs(harness, model)
    loaded = harness.runner.model(model)
    ex = create_explainer("lrp_vit")(loaded, x, target)
    logit = np.asarray(ex.extras["logit"], dtype=float)
    scale = np.maximum(np.abs(logit), 1e-6)
    gaps = {k: np.abs(np.asarray(ex.extras[k], dtype=float) - logit) / scale
            for k in ("token_relevance_sum", "relevance_sum")}
    _record(request, loaded.label, "lrp_vit", "check_conservation",
            {k: round(float(v.max()), 6) for k, v in gaps.items()})
    for k, g in gaps.items():
        i = int(np.argmax(g))
        if g[i] > VIT_RTOL:
            raise CheckFailure(f"conservation: {k} = {ex.extras[k][i]:.4g}, logit {logit[i]:.4g}: |gap| = "
                               f"{g[i]:.3g} of |logit| > {VIT_RTOL} (image {i}) [lrp_vit on {loaded.label}]")
