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

from harness.checks import conservation, conservation_vit, properties
from harness.explainers import list_explainers
from harness.suite import (
    CaseRecord,
    case_param,
    check_applies,
    model_inputs,
    record_case,
    replay_case,
    skip_without_weights,
    suite_models,
)

N_IMAGES = properties.CONSERVATION_IMAGES
# the models the one generator gives check_conservation, for the CNN and the transformer LRP explainer
CNN_MODELS = [m for m in suite_models() if check_applies("check_conservation", m, "lrp_cnn")]
VIT_MODELS = [m for m in suite_models() if check_applies("check_conservation", m, "lrp_vit")]


def _inputs(request, harness, model):
    skip_without_weights(request, harness, model)
    return properties.predicted_batch(harness.runner, model, N_IMAGES)


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
        out = properties.cnn_conservation_value(loaded, x, target, composite=composite, case=request.node.callspec.id)
        _record(request, loaded, f"lrp_zennit_{composite}", out)

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
