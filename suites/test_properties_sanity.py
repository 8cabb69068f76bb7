"""Cascading model-randomisation sanity check (issue 4, item 6; Adebayo et al. 2018).

Per case: the similarity curve (head, 100 %, 75 %, 50 %, 25 % randomised)
goes into the report; the case fails when the fully randomised model's map
is still ``>= 1 - MIN_DROP`` rank-similar.  A model-independent control
explainer (the input's own intensity) must be flagged.
"""

import pytest
import torch

from harness.checks import sanity
from harness.checks.basic import CheckFailure
from harness.checks.strategies import seed_for_id
from harness.explainers import create_explainer
from harness.explainers.registry import Explainer, ExplainerCfg, RawExplanation
from harness.plugin import PROP_CASE
from harness.suite import model_marks

N_IMAGES = 2
MODELS = ("zoo_resnet", "zoo_vit_p16", "zoo_swin")
EXPLAINERS = {"gradcam": {}, "saliency": {}, "ig": {"n_steps": 16}}


def _inputs(request, harness, model):
    from harness.suite import _skip_without_weights

    _skip_without_weights(request, harness, model)
    run = harness.runner
    x = run._batch(model, list(run.images_for(model).records[:N_IMAGES]))
    loaded = run.model(model)
    with torch.no_grad():
        return loaded, x, loaded(x).argmax(1)


@pytest.mark.parametrize(
    ("explainer", "model"),
    [
        pytest.param(e, m, marks=model_marks(m), id=f"{e}-{m}-check_randomisation_sanity")
        for e in EXPLAINERS
        for m in MODELS
    ],
)
def test_randomisation(request, harness, explainer, model):
    loaded, x, target = _inputs(request, harness, model)
    curve = sanity.check_randomisation(
        loaded,
        create_explainer(explainer, **EXPLAINERS[explainer]),
        x,
        target,
        seed=seed_for_id(request.node.callspec.id),
    )
    request.node.user_properties.append(
        (
            PROP_CASE,
            {
                "id": request.node.callspec.id,
                "model": loaded.label,
                "explainer": explainer,
                "check": "check_randomisation",
                "value": dict(zip(("original",) + sanity.STAGES, [round(c, 4) for c in curve])),
            },
        )
    )


def _input_intensity(model, x, target):
    return RawExplanation(attributions=x.abs().sum(1))


@pytest.mark.parametrize(
    "model", [pytest.param("zoo_resnet", id="input_intensity-zoo_resnet-check_randomisation_sanity")]
)
def test_model_independent_explainer_is_flagged(request, harness, model):
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
