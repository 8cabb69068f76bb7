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
from harness.suite import (
    CaseRecord,
    case_param,
    model_inputs,
    record_case,
    replay_case,
    skip_without_weights,
    suite_models,
)

N_IMAGES = 4
CNN_MODELS = [m for m in suite_models() if conservation.supports(get_model_cfg(m))]
VIT_MODELS = [m for m in suite_models() if conservation_vit.supports(get_model_cfg(m))]


def _inputs(request, harness, model):
    skip_without_weights(request, harness, model)
    run = harness.runner
    x = run.batch(model, list(run.images_for(model).records[:N_IMAGES]))
    loaded = run.model(model)
    with torch.no_grad():
        return loaded, x, loaded(x).argmax(1)


def _record(request, loaded, explainer, value):
    record_case(
        request,
        CaseRecord(
            id=request.node.callspec.id,
            model=loaded.name,
            explainer=explainer,
            check="check_conservation",
            value=value,
            model_label=loaded.label,
        ),
    )


@pytest.mark.parametrize(
    ("model", "composite"),
    [
        case_param(m, c, model=m, explainer=f"lrp_zennit_{c}", check="check_conservation")
        for m in CNN_MODELS
        for c in conservation.COMPOSITES
    ],
)
def test_cnn_conservation(request, harness, model, composite):
    skip_without_weights(request, harness, model)

    def body():
        loaded, x, target = _inputs(request, harness, model)
        out = conservation.check_conservation(loaded, x, target, composite=composite, case=request.node.callspec.id)
        _record(request, loaded, f"lrp_zennit_{composite}", {**out, "rtol": conservation.CONSERVATIVE_RTOL})

    inputs = model_inputs(harness.runner, model, N_IMAGES, composite=composite)
    replay_case(request, harness, "check_conservation", inputs, body)


@pytest.mark.skipif("lrp_vit" not in list_explainers(), reason="no transformer LRP explainer registered")
@pytest.mark.parametrize(
    "model", [case_param(m, model=m, explainer="lrp_vit_cp", check="check_conservation") for m in VIT_MODELS]
)
def test_vit_conservation(request, harness, model):
    skip_without_weights(request, harness, model)

    def body():
        loaded, x, target = _inputs(request, harness, model)
        out = conservation_vit.check_conservation(loaded, x, target, rule="cp", case=request.node.callspec.id)
        _record(request, loaded, "lrp_vit_cp", out)

    replay_case(request, harness, "check_conservation", model_inputs(harness.runner, model, N_IMAGES), body)
