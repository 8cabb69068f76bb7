"""``check_concept_labels``: a model's logit units are labelled with their own class's concepts.

Both methods run on the held-out probe images (:mod:`harness.concepts.study`)
for the trained model and for its seeded random-weight control.  The check
fails when the trained model's share of logit units labelled with one of
their class's own concepts (shape, colour or texture; both methods pooled,
8 classes x 2 methods) is below :data:`MIN_SHARE`, or when the random-weight
control's share is not below :data:`MAX_RANDOM_SHARE` (a control near
chance, :data:`~harness.concepts.study.CHANCE` = 0.136, shows the labels
come from training, not from the probe or the method).
"""

from __future__ import annotations

from typing import Any

from ..checks.basic import CheckFailure
from .study import CHANCE, METHODS, dissect, summarise

MIN_SHARE = 0.75  # per model; the zoo-wide target (all 11 models) is ZOO_TARGET
MAX_RANDOM_SHARE = 0.5
ZOO_TARGET = 0.9


def concept_labels(name: str, *, device: str = "auto") -> dict[str, Any]:
    """What ``check_concept_labels`` measures, without judging it."""
    trained, control = dissect(name, device=device), dissect(name, pretrained=False, device=device)
    return dict(
        model=trained.model,
        control=control.model,
        share=trained.share(),
        share_by_method={m: trained.share(m) for m in METHODS},
        random_share=control.share(),
        random_share_by_method={m: control.share(m) for m in METHODS},
        chance=CHANCE,
        top_k=trained.top_k,
        n_images=trained.n_images,
        source=trained.source,
        summary=summarise(trained),
        control_summary=summarise(control),
    )


def check_concept_labels(name: str, *, device: str = "auto") -> dict[str, Any]:
    __tracebackhide__ = True
    value = concept_labels(name, device=device)
    case = f"[dissect on {value['model']}]"
    if value["share"] < MIN_SHARE:
        wrong = {
            m: {k: lab for k, lab in value["summary"]["logit_labels"][m].items()}
            for m in METHODS
            if value["share_by_method"][m] < 1
        }
        raise CheckFailure(
            f"concept labels: {value['share']:.3f} of logit units carry their class's own concept "
            f"< {MIN_SHARE} {case}; labels: {wrong}"
        )
    if value["random_share"] >= MAX_RANDOM_SHARE:
        raise CheckFailure(
            f"concept labels: random-weight control {value['control']} scores {value['random_share']:.3f} "
            f">= {MAX_RANDOM_SHARE} (chance {CHANCE:.3f}) {case}"
        )
    return value
