"""LRP relevance conservation (issue 4, item 3).

CNNs: zennit composites with canonizers, checked at every target-layer cut
(25/50/75/100 % depth) and at the pixels (:mod:`harness.checks.conservation`).
Transformers (token ViTs: ViT, DeiT): the rules of ``lrp_vit`` with
``rule="cp"`` (attention probabilities and LayerNorm scale as constants),
additive constants zeroed, checked at every block's output, the patch tokens
and the pixels (:mod:`harness.checks.conservation_vit`).  The leak with the
biases kept, and the default AttnLRP rules' leak, are recorded, not asserted.
"""

import pytest
import torch

from harness.checks import conservation, conservation_vit
from harness.explainers import list_explainers
from harness.models import get_model_cfg
from harness.plugin import PROP_CASE
from harness.suite import model_marks, suite_models

N_IMAGES = 4
CNN_MODELS = [m for m in suite_models() if conservation.supports(get_model_cfg(m))]
VIT_MODELS = [m for m in suite_models() if conservation_vit.supports(get_model_cfg(m))]


def _inputs(harness, model):
    run = harness.runner
    recs = list(run.images_for(model).records[:N_IMAGES])
    x = run._batch(model, recs)
    with torch.no_grad():
        return x, run.model(model)(x).argmax(1)


def _record(request, label, explainer, check, value):
    request.node.user_properties.append(
        (
            PROP_CASE,
            {"id": request.node.callspec.id, "model": label, "explainer": explainer, "check": check, "value": value},
        )
    )


@pytest.mark.parametrize(
    ("model", "composite"),
    [
        pytest.param(m, c, marks=model_marks(m), id=f"lrp_zennit_{c}-{m}-check_conservation")
        for m in CNN_MODELS
        for c in conservation.COMPOSITES
    ],
)
def test_cnn_conservation(request, harness, model, composite):
    from harness.suite import _skip_without_weights

    _skip_without_weights(request, harness, model)
    x, target = _inputs(harness, model)
    loaded = harness.runner.model(model)
    out = conservation.check_conservation(loaded, x, target, composite=composite, case=request.node.callspec.id)
    _record(
        request,
        loaded.label,
        f"lrp_zennit_{composite}",
        "check_conservation",
        {**out, "rtol": conservation.CONSERVATIVE_RTOL},
    )


@pytest.mark.skipif("lrp_vit" not in list_explainers(), reason="no transformer LRP explainer registered")
@pytest.mark.parametrize(
    "model", [pytest.param(m, marks=model_marks(m), id=f"lrp_vit_cp-{m}-check_conservation") for m in VIT_MODELS]
)
def test_vit_conservation(request, harness, model):
    from harness.suite import _skip_without_weights

    _skip_without_weights(request, harness, model)
    x, target = _inputs(harness, model)
    loaded = harness.runner.model(model)
    out = conservation_vit.check_conservation(loaded, x, target, rule="cp", case=request.node.callspec.id)
    _record(request, loaded.label, "lrp_vit_cp", "check_conservation", out)
