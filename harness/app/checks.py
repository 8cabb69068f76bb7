"""The checks that apply to one image, run on each map the app shows.

They are the suites' own check functions (:mod:`harness.checks.basic`,
:mod:`harness.checks.localisation`) called on a one-image case:

* ``finite`` and ``not constant`` on the map shown;
* ``target respected`` on the top-1 map: explaining the second-ranked class
  must change it (the second map is computed once and stored, so asking for
  it in the page afterwards is free);
* ``localisation`` against the object mask, where the image has one (the
  zoo's shapes images); uploads have none, and the check says so.

A failure listed in the suites' one table of expected failures
(:mod:`harness.suite.known`: attention rollout is class-agnostic, so it never
respects the target) is shown as ``known`` with the table's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks.basic import CheckFailure, check_finite, check_not_constant, check_target_respected
from ..checks.localisation import check_localisation
from ..checks.mask_scope import model_scope
from ..compute.runner import CaseResult, Predictions
from ..explainers import Explainer
from ..suite.known import known_failure
from .session import ExploreSession, MapResult
from .uploads import Picture

PASS, FAIL, KNOWN, NOT_APPLICABLE = "pass", "fail", "known", "n/a"


@dataclass(frozen=True)
class CheckOutcome:
    """One check on one map: ``pass``, ``fail`` (with the check's message), ``known`` (a listed expected
    failure, with the table's reason) or ``n/a`` (with why)."""

    name: str
    status: str
    detail: str


class OneImage:
    """The runner methods the checks call, answered by the session for one picture: predictions and
    explanations, and for the localisation check's judgement (:mod:`harness.checks.mask_scope`) the
    session's store, the model's store identity and the loaded model."""

    def __init__(self, session: ExploreSession, picture: Picture) -> None:
        self.session = session
        self.picture = picture

    def predictions(self, model: str) -> Predictions:
        pred = self.session.predict(model, self.picture)
        return Predictions(model, (self.picture.record,), pred.logits[None])

    def explain(self, model: str, explainer: Explainer, *, targets, limit: int | None = None) -> CaseResult:
        target = int(np.asarray(targets)[0])
        return self.session.explain_class(model, explainer, self.picture, target, mode="custom").case(self.picture)

    @property
    def store(self):
        return self.session.store

    def model_fields(self, model: str) -> dict:
        return self.session.keys.model_fields(model)

    def model(self, model: str):
        """The loaded model; the caller holds the session's lock of ``model`` (hooks must not interleave)."""
        return self.session.loaded_model(model)


SHOWN = ("relevance_mass", "relevance_mass_random", "judgement")  # of a check's value, on the page


def _run(name: str, fn, result: CaseResult, runner) -> CheckOutcome:
    try:
        value = fn(result, runner)
    except CheckFailure as exc:
        known = known_failure(result.explainer, result.model, fn.__name__)
        if known is not None:
            return CheckOutcome(name, KNOWN, f"{known.reason} ({exc})")
        return CheckOutcome(name, FAIL, str(exc))
    if isinstance(value, dict):
        shown = ", ".join(f"{k} {v}" for k, v in value.items() if k in SHOWN)
        return CheckOutcome(name, PASS, shown)
    return CheckOutcome(name, PASS, f"{value:.3g}" if isinstance(value, float) else str(value))


def single_image_checks(
    session: ExploreSession, picture: Picture, shown: MapResult, top1: MapResult
) -> tuple[CheckOutcome, ...]:
    """Outcomes of the single-image checks for ``shown`` (``top1`` is the same explainer's top-1 map)."""
    runner = OneImage(session, picture)
    case = shown.case(picture)
    out = [_run("finite", check_finite, case, runner), _run("not constant", check_not_constant, case, runner)]
    out.append(_run("target respected", check_target_respected, top1.case(picture), runner))
    if picture.mask is None:
        out.append(CheckOutcome("localisation", NOT_APPLICABLE, "no object mask for this image"))
    else:
        with session.lock(case.model):  # the judgement's interventions run the model: once, then stored
            model_scope(runner, case.model)
        out.append(_run("localisation", check_localisation, case, runner))
    return tuple(out)
