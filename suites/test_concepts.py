"""Concept labels of zoo units (CLIP-Dissect soft-WPMI and Network Dissection) against the probe's ground truth.

``pytest suites/ -k dissect``: one case per clean zoo model (its logit units
should carry their class's own concepts; its random-weight control should
not) and one zoo-wide case for the target share.  Parameters and the
probe's tuning/held-out parts: :mod:`harness.concepts.study`.
"""

import pytest

from harness.concepts.checks import ZOO_TARGET, check_concept_labels, concept_labels
from harness.models.zoo import CLEAN_ZOO
from harness.suite import CaseRecord, case_param, record_case, replay_case, skip_without_weights, study_inputs


@pytest.mark.parametrize(
    "model",
    [
        case_param(
            m, model=m, explainer="dissect", check="check_concept_labels", id=f"dissect-{m}-check_concept_labels"
        )
        for m in CLEAN_ZOO
    ],
)
def test_concept_labels(request, harness, model):
    skip_without_weights(request, harness, model)

    def body():
        record = record_case(
            request,
            CaseRecord(id=request.node.callspec.id, model=model, explainer="dissect", check="check_concept_labels"),
        )
        record.value = concept_labels(model, device=harness.options.device)  # recorded before it is judged
        check_concept_labels(model, device=harness.options.device)

    replay_case(request, harness, "check_concept_labels", study_inputs(harness.runner, [model]), body)


@pytest.mark.parametrize(
    "models",
    [
        case_param(
            CLEAN_ZOO,
            model="zoo",
            explainer="dissect",
            check="check_concept_share",
            id="dissect-zoo-check_concept_share",
        )
    ],
)
def test_zoo_concept_share(request, harness, models):
    """The share over all (model, class) pairs and both methods reaches the target."""
    for m in models:
        skip_without_weights(request, harness, m)

    def body():
        values = {m: concept_labels(m, device=harness.options.device) for m in models}
        hits = sum(v["share"] * 16 for v in values.values())
        share, random_share = hits / (16 * len(values)), sum(v["random_share"] for v in values.values()) / len(values)
        record_case(
            request,
            CaseRecord(
                id=request.node.callspec.id,
                model="zoo",
                explainer="dissect",
                check="check_concept_share",
                value=dict(share=share, random_share=random_share, target=ZOO_TARGET, models=len(values)),
            ),
        )
        assert share >= ZOO_TARGET, (
            f"concept labels: {share:.3f} of {16 * len(values)} (model, class, method) logit units carry their "
            f"class's own concept < target {ZOO_TARGET} [dissect on the zoo]"
        )

    replay_case(request, harness, "check_concept_share", study_inputs(harness.runner, models), body)
