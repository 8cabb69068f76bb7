"""The spurious-cue bias probe: the zoo's spurious models against their clean twins.

``pytest suites/ -k background_reliance``: one case per model x explainer.
``check_background_reliance`` flags (raises on) a model whose explanations
put more than the stated share of their mass outside the object.  A case
passes when the verdict is right: a model trained on ``shapes-spurious``
(``ZooCfg.trained_on``) must be flagged, its clean twin must not.  Misses
are strict expected failures in ``harness/suite/known.py``, with numbers.
``-k cue_accuracy``: accuracy on cue-aligned, cue-free and cue-conflicting
images, and the background-recolouring counterfactual.
"""

import pytest

from harness.bias.checks import bias_models, bias_study, check_background_reliance, check_cue_accuracy, threshold
from harness.bias.probe import BIAS_EXPLAINERS, applicable
from harness.checks.basic import CheckFailure
from harness.models import get_model_cfg
from harness.models.zoo import trained_on
from harness.suite import CaseRecord, case_param, record_case, replay_case, skip_without_weights, study_inputs

MODELS = bias_models()


def _record(request, model, explainer, check):
    return record_case(request, CaseRecord(id=request.node.callspec.id, model=model, explainer=explainer, check=check))


@pytest.mark.parametrize(
    "model",
    [
        case_param(m, model=m, explainer="bias", check="check_cue_accuracy", id=f"bias-{m}-check_cue_accuracy")
        for m in MODELS
    ],
)
def test_cue_accuracy(request, harness, model):
    skip_without_weights(request, harness, model)

    def body():
        record = _record(request, model, "bias", "check_cue_accuracy")
        record.value = check_cue_accuracy(model, device=harness.options.device)

    replay_case(request, harness, "check_cue_accuracy", study_inputs(harness.runner, [model]), body)


@pytest.mark.parametrize(
    ("model", "explainer"),
    [
        case_param(m, ex, model=m, explainer=ex, check="check_background_reliance")
        for m in MODELS
        for ex in BIAS_EXPLAINERS
        if applicable(get_model_cfg(m), ex)
    ],
)
def test_background_reliance(request, harness, model, explainer):
    for m in MODELS:
        skip_without_weights(request, harness, m)

    def body():
        record = _record(request, model, explainer, "check_background_reliance")
        study = bias_study(device=harness.options.device)  # every model x explainer, for the Spearman agreement
        row = study["models"][model]
        outside = row["reliance"][explainer]["outside"]
        limit = threshold(explainer, get_model_cfg(model).family)
        spurious = trained_on(get_model_cfg(model)) == "shapes-spurious"
        record.value = dict(
            model=model,
            explainer=explainer,
            trained_on=row["trained_on"],
            outside=outside,
            threshold=limit,
            flagged=outside > limit,
            counterfactual=row["counterfactual"],
            spearman=study["spearman"][explainer]["spearman"],
        )
        if not spurious:
            check_background_reliance(model, explainer, device=harness.options.device)
            return
        try:
            check_background_reliance(model, explainer, device=harness.options.device)
        except CheckFailure as flagged:
            assert "background reliance" in str(flagged), str(flagged)
        else:  # an AssertionError, so the stored outcome replays as the same failure
            raise AssertionError(
                f"background reliance: {outside:.3f} of the mass lies outside the object <= {limit} for a model "
                f"trained on shapes-spurious: not flagged [{explainer} on {model}]"
            )

    replay_case(request, harness, "check_background_reliance", study_inputs(harness.runner, MODELS), body)
