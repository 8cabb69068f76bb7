"""The property checks, declared: completeness, conservation, randomisation sanity and the grid score.

Each reads the model (``reads="model"``): it re-runs the case's explainer under
its own parameters, ``run(runner, model, explainer, *, params, seed, record)``, and
hands the value the report shows to ``record(model_label, value)`` (before judging,
where the check measures first, so a failing case keeps its numbers).  Which pairs each applies to is a matter of tags:

* ``check_completeness``: explainers that promise it (:func:`harness.checks.axioms.applies`:
  ``has_baseline`` and ``multiplies_by_inputs``, not ``stochastic``); black baseline,
  predicted class, ``COMPLETENESS_STEPS`` Gauss-Legendre steps, the first image;
* ``check_conservation``: LRP explainers (group ``lrp``) on models whose structure the
  rules cover (:func:`harness.checks.conservation.supports`,
  :func:`harness.checks.conservation_vit.supports`), biases zeroed, the first
  ``CONSERVATION_IMAGES`` images;
* ``check_randomisation_sanity``: every explainer on a model with target layers (the cascade's
  cut points), ``SANITY_IMAGES`` images, re-initialisation seeded from the case;
* ``check_grid_artefact``: the completeness explainers' signed maps on CNNs and transformers,
  the first ``GRID_IMAGES`` images (:mod:`harness.checks.artefacts`).

The suites (``suites/test_properties_*.py``) parametrise from the same catalogue and
call the same functions; they keep their own budgets (which models, the Hypothesis and
convergence variants, held-out images).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..explainers import create_explainer
from ..models import get_model_cfg
from . import artefacts, axioms, conservation, conservation_vit, sanity
from .basic import CheckFailure
from .catalogue import CheckSpec, register_check

COMPLETENESS_STEPS = 256  # Gauss-Legendre; at 64 some zoo transformers still miss 5 % (0.27 on zoo_vit_p16)
CONSERVATION_IMAGES = 4
SANITY_IMAGES = 2
GRID_IMAGES = 4
PATCH_MIN_SCORE = 1.5  # a uniform-patch transformer must score this; maps without a grid score 0.9-1.2

Record = Callable[[str, dict[str, Any]], None]


def predicted_batch(runner, model: str, n_images: int):
    """(loaded model, the first ``n_images`` images as a batch, their predicted classes)."""
    x = runner.batch(model, list(runner.images_for(model).records[:n_images]))
    loaded = runner.model(model)
    with torch.no_grad():
        return loaded, x, loaded(x).argmax(1)


# -- completeness ------------------------------------------------------------------------------------------
def completeness_value(c: axioms.Completeness, target: torch.Tensor, n_steps: int) -> dict[str, Any]:
    return {
        **c.summary(),
        "n_steps": n_steps,
        "rtol": axioms.COMPLETENESS_RTOL,
        "atol": axioms.COMPLETENESS_ATOL,
        "baseline": "black",
        "target": int(target[0]),
    }


def assert_completeness(loaded, explainer: str, c: axioms.Completeness, target, record: Record, n_steps: int) -> None:
    """Judge a measured completeness, recording its value whatever the outcome."""
    __tracebackhide__ = True
    try:
        axioms.assert_complete(c, case=f"{explainer} on {loaded.label}, baseline black, target {int(target[0])}")
    finally:
        record(loaded.label, completeness_value(c, target, n_steps))


def run_completeness(runner, model: str, explainer: str, *, params=(), seed: int, record: Record) -> None:
    __tracebackhide__ = True
    loaded, x, target = predicted_batch(runner, model, 1)
    c = axioms.measure(loaded, create_explainer(explainer, baseline="black", n_steps=COMPLETENESS_STEPS), x, target)
    assert_completeness(loaded, explainer, c, target, record, COMPLETENESS_STEPS)


def completeness_applies(model_cfg, explainer_cfg) -> bool:
    return axioms.applies(explainer_cfg)


# -- conservation ------------------------------------------------------------------------------------------
def conservation_applies(model_cfg, explainer_cfg) -> bool:
    """LRP explainers (group ``lrp``) of the model's family, on a structure the conservative rules cover."""
    covered = conservation.supports(model_cfg) or conservation_vit.supports(model_cfg)
    return explainer_cfg.group == "lrp" and model_cfg.family in explainer_cfg.families and covered


def cnn_conservation_value(loaded, x, target, *, composite: str, case: str) -> dict[str, Any]:
    out = conservation.check_conservation(loaded, x, target, composite=composite, case=case)
    return {**out, "rtol": conservation.CONSERVATIVE_RTOL}


def run_conservation(runner, model: str, explainer: str, *, params=(), seed: int, record: Record) -> None:
    """CNNs: the explainer's zennit composite (default ``epsilon_plus_flat``); token ViTs: the CP rules."""
    __tracebackhide__ = True
    loaded, x, target = predicted_batch(runner, model, CONSERVATION_IMAGES)
    case = f"{explainer}-{model}"
    if conservation.supports(loaded.cfg):
        composite = dict(create_explainer(explainer, **dict(params)).param_dict).get("composite", "epsilon_plus_flat")
        record(loaded.label, cnn_conservation_value(loaded, x, target, composite=composite, case=case))
    else:
        record(loaded.label, conservation_vit.check_conservation(loaded, x, target, rule="cp", case=case))


# -- randomisation sanity ----------------------------------------------------------------------------------
def sanity_applies(model_cfg, explainer_cfg) -> bool:
    return bool(model_cfg.target_layers)


def sanity_value(curve: list[float]) -> dict[str, float]:
    return dict(zip(("original",) + sanity.STAGES, [round(c, 4) for c in curve]))


def run_sanity(runner, model: str, explainer: str, *, params=(), seed: int, record: Record) -> None:
    __tracebackhide__ = True
    loaded, x, target = predicted_batch(runner, model, SANITY_IMAGES)
    curve = sanity.check_randomisation(loaded, create_explainer(explainer, **dict(params)), x, target, seed=seed)
    record(loaded.label, sanity_value(curve))


# -- grid artefact -----------------------------------------------------------------------------------------
def is_uniform_patch(cfg) -> bool:
    return cfg.family == "transformer" and cfg.patch_size > 0


def grid_applies(model_cfg, explainer_cfg) -> bool:
    return model_cfg.family in ("cnn", "transformer") and axioms.applies(explainer_cfg)


def grid_scores(cfg, maps: np.ndarray) -> tuple[dict[int, np.ndarray], dict[int, list[float]]]:
    """Per-period per-image grid scores and spectral scores of ``maps``."""
    periods = artefacts.periods_for(cfg)
    per_period = {p: artefacts.grid_scores(maps, p) for p in periods}
    spectral = {p: [artefacts.spectral_score(m, p) for m in maps] for p in periods}
    return per_period, spectral


def grid_summary(per_period) -> tuple[float, int]:
    """(the highest period's score, that period)."""
    return max((artefacts.summarise(s), p) for p, s in per_period.items())


def grid_value(cfg, ids: list[str], per_period, spectral) -> dict[str, Any]:
    score, period = grid_summary(per_period)
    return {
        "grid_score": round(score, 4),
        "period": period,
        "family": cfg.family,
        "uniform_patch": is_uniform_patch(cfg),
        "images": ids,
        "per_image": [round(float(s), 3) for s in per_period[period]],
        "per_period": {p: round(artefacts.summarise(s), 4) for p, s in per_period.items()},
        "spectral_score": {p: round(artefacts.summarise(np.array(s)), 3) for p, s in spectral.items()},
    }


def assert_grid(cfg, per_period, *, case: str) -> None:
    """Scores are finite, and a uniform-patch transformer shows its patch grid."""
    __tracebackhide__ = True
    score, _ = grid_summary(per_period)
    finite = all(np.isfinite(s).all() for s in per_period.values())
    assert finite, f"grid: non-finite score {per_period} [{case}]"
    if is_uniform_patch(cfg) and not score > PATCH_MIN_SCORE:
        raise CheckFailure(
            f"grid: uniform-patch transformer scores {score:.3g} <= {PATCH_MIN_SCORE} at period "
            f"{cfg.patch_size} px: no patch grid detected [{case}]"
        )


def run_grid(runner, model: str, explainer: str, *, params=(), seed: int, record: Record) -> None:
    __tracebackhide__ = True
    result = runner.explain(model, create_explainer(explainer, **dict(params)), limit=GRID_IMAGES)
    cfg = get_model_cfg(model)
    per_period, spectral = grid_scores(cfg, result.attributions)
    record(result.model_label, grid_value(cfg, [r.id for r in result.records], per_period, spectral))
    assert_grid(cfg, per_period, case=f"{explainer} on {result.model_label}")


register_check(
    CheckSpec(
        "check_completeness",
        "model",
        run_completeness,
        completeness_applies,
        n_images=1,
        doc="sum(attr) = f(x) - f(x0)",
    )
)
register_check(
    CheckSpec(
        "check_conservation",
        "model",
        run_conservation,
        conservation_applies,
        n_images=CONSERVATION_IMAGES,
        doc="LRP relevance sums to the logit",
    )
)
register_check(
    CheckSpec(
        "check_randomisation_sanity",
        "model",
        run_sanity,
        sanity_applies,
        n_images=SANITY_IMAGES,
        doc="cascading model randomisation",
    )
)
GRID = register_check(
    CheckSpec("check_grid_artefact", "model", run_grid, grid_applies, n_images=GRID_IMAGES, doc="patch-grid score")
)
