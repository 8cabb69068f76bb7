"""Attributions against interventions on the ``shapes`` world (issue 26, items 1-3).

The zoo models are run on ``shapes`` samples re-rendered with one element changed
(:mod:`harness.zoo.interventions`); the drop of the predicted class's logit is each region's
importance (stored, kind ``intervention``).  Cases, all selected by ``-k intervention``:

* ``<explainer>-<model>-check_intervention_<score>`` for the scores of
  :mod:`harness.checks.interventions` (``ranking``, ``single_deletion``, ``background``,
  ``distractors``), each beside a random-attribution control with a bootstrap interval of the
  difference over the ``N_EVAL`` evaluated images; independence thresholds are tuned on
  ``N_TUNE`` images of the ``val`` split (disjoint from the evaluated ``test`` images) and the
  record says how much the score would be inflated by tuning on the evaluated images;
* ``interventions-<model>-check_intervention_usage``: does the model use the object, and only it?
  Where it does not, the object-mask checks (``check_localisation``) rest on a wrong ground truth.

Models trained on the spurious-cue world are run on its ``test`` split (tint independent of the
class), the others on the clean one.  Cheap explainers by default (``DEFAULT_EXPLAINERS``), so the
selection adds little to the main job; ``XAI_HARNESS_INTERVENTION_EXPLAINERS=all`` (or comma-separated
names and fnmatch patterns, ``ig,gradcam*``) runs the scores for those explainers instead, every zoo model
each supports (IG costs 30-70 s per model: docs/ground-truth.md).  Outcomes join the stored-outcome replay.
"""

import os
from dataclasses import asdict

import pytest

from harness.checks import interventions as iv
from harness.checks.basic import CheckFailure
from harness.explainers import create_explainer, get_explainer_cfg, list_explainers
from harness.models import get_model_cfg, list_models
from harness.suite import CaseRecord, case_param, record_case, replay_case, skip_without_weights
from harness.zoo.effects import N_EVAL, SceneRef, evaluated_refs, measure_effects, original_input

N_TUNE = 16  # tuning images for the thresholds: class-balanced val images (a disjoint random stream)
DEFAULT_EXPLAINERS = ("gradcam", "saliency", "chefer")


def _explainers(spec: str) -> tuple[str, ...]:
    """The explainers of the selection: the cheap defaults, or what ``spec`` names (``all``, names, patterns)."""
    if not spec.strip():
        return DEFAULT_EXPLAINERS
    patterns = ["*"] if spec.strip() == "all" else [p.strip() for p in spec.split(",") if p.strip()]
    names = {n for p in patterns for n in list_explainers(p)}
    if not names:
        raise ValueError(
            f"XAI_HARNESS_INTERVENTION_EXPLAINERS={spec!r} names no explainer; known: {', '.join(list_explainers())}"
        )
    return tuple(sorted(names))


EXPLAINERS = _explainers(os.environ.get("XAI_HARNESS_INTERVENTION_EXPLAINERS", ""))
MODELS = list_models(source="zoo")


def _refs(model: str, split: str, n: int) -> list[SceneRef]:
    return evaluated_refs(get_model_cfg(model), split, n)


def _params(explainers: tuple[str, ...] = EXPLAINERS):
    out = []
    for model in MODELS:
        for explainer in explainers:
            if get_explainer_cfg(explainer).supports(get_model_cfg(model)):
                for score in iv.SCORES:
                    check = f"check_intervention_{score}"
                    out.append(
                        case_param(
                            explainer, model, score, model=model, explainer=explainer, check=check, raises=CheckFailure
                        )
                    )
    return out


@pytest.fixture(scope="module")
def computed():
    """(model) -> effects per ref; (explainer, model) -> region tables: shared by a pair's four scores."""
    return {}


def _effects(harness, computed, model):
    if model not in computed:
        run = harness.runner
        loaded = run.model(model)
        fields = run.model_fields(model)
        refs = _refs(model, "test", N_EVAL) + _refs(model, "val", N_TUNE)
        computed[model] = (loaded, {r: measure_effects(loaded, r, store=run.store, model_fields=fields) for r in refs})
    return computed[model]


def _tables(harness, computed, explainer, model):
    key = (explainer, model)
    if key not in computed:
        loaded, effects = _effects(harness, computed, model)
        ex = create_explainer(explainer)

        def tables(refs, control):
            out = []
            for k, r in enumerate(refs):
                e = effects[r]
                if control:
                    attr = iv.random_attribution(e.regions["object"].shape, seed=k)
                else:
                    attr = ex(loaded, original_input(r, loaded.cfg).to(loaded.device), e.target).attributions[0]
                out.append(iv.region_table(attr, e))
            return out

        ev, tu = _refs(model, "test", N_EVAL), _refs(model, "val", N_TUNE)
        computed[key] = (tables(ev, False), tables(ev, True), tables(tu, False))
    return computed[key]


def _inputs(harness, model, **params):
    return {
        "model": harness.runner.model_fields(model),
        "scenes": [asdict(r) for r in _refs(model, "test", N_EVAL) + _refs(model, "val", N_TUNE)],
        "params": params,
    }


@pytest.mark.parametrize(("explainer", "model", "score"), _params())
def test_intervention(request, harness, computed, explainer, model, score):
    skip_without_weights(request, harness, model)
    check = f"check_intervention_{score}"

    def body():
        record = record_case(
            request, CaseRecord(id=request.node.callspec.id, model=model, explainer=explainer, check=check)
        )
        result = iv.evaluate(score, *_tables(harness, computed, explainer, model))
        record.model_label = model
        record.value = result.as_dict()
        # raises iv.NotApplicable where no image has the region (the background matters on every image, say):
        # replay_case stores that and reports a skip
        iv.assert_beats_control(result, case=f"{explainer} on {model}")

    params = {"explainer": [list(p) for p in create_explainer(explainer).params], "n_eval": N_EVAL, "n_tune": N_TUNE}
    replay_case(request, harness, check, _inputs(harness, model, **params), body)


@pytest.mark.parametrize(
    "model",
    [
        case_param(m, model=m, explainer="interventions", check="check_intervention_usage", raises=CheckFailure)
        for m in MODELS
    ],
)
def test_intervention_usage(request, harness, computed, model):
    skip_without_weights(request, harness, model)

    def body():
        record = record_case(
            request,
            CaseRecord(
                id=request.node.callspec.id, model=model, explainer="interventions", check="check_intervention_usage"
            ),
        )
        _, effects = _effects(harness, computed, model)
        use = iv.usage([effects[r] for r in _refs(model, "test", N_EVAL)])
        record.model_label = model
        record.value = {**use, "n_images": N_EVAL, "eps_rel": iv.EPS_REL}
        iv.assert_masks_agree(use, case=f"interventions on {model}")

    replay_case(request, harness, "check_intervention_usage", _inputs(harness, model, n_eval=N_EVAL), body)
