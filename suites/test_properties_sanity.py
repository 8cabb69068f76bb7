"""Cascading model-randomisation sanity check (issue 4, item 6; Adebayo et al. 2018).

Per case: the similarity curve (head, 100 %, 75 %, 50 %, 25 % randomised)
goes into the report; the case fails when the fully randomised model's map
is still ``>= 1 - MIN_DROP`` rank-similar.  A model-independent control
explainer (the input's own intensity) must be flagged.
"""

import pytest

from harness.checks import properties, sanity
from harness.checks.basic import CheckFailure
from harness.explainers.registry import Explainer, ExplainerCfg, RawExplanation
from harness.suite import (
    Case,
    case_param,
    check_applies,
    model_inputs,
    record_property,
    replay_case,
    seed_for,
    skip_without_weights,
)

N_IMAGES = properties.SANITY_IMAGES
MODELS = ("zoo_resnet", "zoo_vit_p16", "zoo_swin")
EXPLAINERS = {"gradcam": {}, "saliency": {}, "ig": {"n_steps": 16}}  # this suite's budget: one per group
CHECK = "check_randomisation_sanity"


def _inputs(request, harness, model):
    skip_without_weights(request, harness, model)
    return properties.predicted_batch(harness.runner, model, N_IMAGES)


@pytest.mark.parametrize(
    ("explainer", "model"),
    [
        case_param(e, m, model=m, explainer=e, check=CHECK)
        for e in EXPLAINERS
        for m in MODELS
        if check_applies(CHECK, m, e)  # the one generator's tags
    ],
)
def test_randomisation(request, harness, explainer, model):
    skip_without_weights(request, harness, model)
    seed = seed_for(request.node.callspec.id)
    case = Case(model, explainer, tuple(sorted(EXPLAINERS[explainer].items())))

    def body():
        record = record_property(request, case, CHECK)
        properties.run_sanity(harness.runner, model, explainer, params=case.params, seed=seed, record=record)

    inputs = model_inputs(harness.runner, model, N_IMAGES, explainer=EXPLAINERS[explainer], seed=seed)
    replay_case(request, harness, CHECK, inputs, body)


def _input_intensity(model, x, target):
    return RawExplanation(attributions=x.abs().sum(1))


@pytest.mark.parametrize(
    "model", [case_param("zoo_resnet", model="zoo_resnet", explainer="input_intensity", check=CHECK)]
)
def test_model_independent_explainer_is_flagged(request, harness, model):
    skip_without_weights(request, harness, model)

    def body():
        loaded, x, target = _inputs(request, harness, model)
        control = Explainer(
            cfg=ExplainerCfg(name="input_intensity", title="control", group="control"), params=(), fn=_input_intensity
        )
        with pytest.raises(
            CheckFailure,
            match=r"randomisation: Spearman similarity to the original map is 1\.000 "
            r">= 0\.70 .*\[input_intensity on zoo_resnet\]",
        ):
            sanity.check_randomisation(loaded, control, x, target, seed=0)

    replay_case(request, harness, CHECK, model_inputs(harness.runner, model, N_IMAGES), body)
