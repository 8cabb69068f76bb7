"""The spurious-cue bias probe: the zoo's spurious models against their clean twins.

``pytest suites/ -k background_reliance``: a case per model x explainer;
the check flags (fails) a model whose explanations put more than the stated
share of their mass outside the object.  The spurious models' flags are
strict expected failures in ``harness/suite/known.py`` (with the numbers),
so their twins pass and the spurious models xfail; a spurious model that
stops being flagged fails the run.  ``-k cue_accuracy``: accuracy on
cue-aligned, cue-free and cue-conflicting images.
"""

import pytest

from harness.bias.checks import bias_models, bias_study, check_background_reliance, check_cue_accuracy
from harness.bias.probe import BIAS_EXPLAINERS, applicable
from harness.models import get_model_cfg
from harness.suite import CaseRecord, case_param, record_case, skip_without_weights

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
    record = _record(request, model, "bias", "check_cue_accuracy")
    record.value = check_cue_accuracy(model, device=harness.options.device)


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
    skip_without_weights(request, harness, model)
    record = _record(request, model, explainer, "check_background_reliance")
    study = bias_study(device=harness.options.device)
    from harness.bias.checks import MAX_OUTSIDE, reliance

    r = reliance(model, explainer, harness.options.device)
    record.value = dict(
        model=model,
        explainer=explainer,
        trained_on=study["models"][model]["trained_on"],
        outside=r["outside"],
        threshold=MAX_OUTSIDE[explainer],
        flagged=r["outside"] > MAX_OUTSIDE[explainer],
        counterfactual=study["models"][model]["counterfactual"],
        spearman=study["spearman"][explainer]["spearman"],
    )
    check_background_reliance(model, explainer, device=harness.options.device)
