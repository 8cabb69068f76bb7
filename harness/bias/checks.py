"""``check_background_reliance`` and ``check_cue_accuracy``: the bias probe as checks.

``check_background_reliance`` fails (flags the model) when an explainer puts
more than :data:`MAX_OUTSIDE` of its attribution mass outside the object
mask, on :data:`BIAS_N` class-balanced images of the model's own world
(:func:`~harness.bias.data.base_condition`).  The background covers about
93 % of these images, so a map spread evenly would put 0.93 outside.

The shares are stated per explainer and family (a CNN's IG spreads far more
over the background than a ViT's, whatever the model learnt).  They were
set once, between what the clean twins and the spurious models measured on
the *calibration* images (the first 16 balanced test images,
:data:`CALIBRATION`); the checks run on the next 16 (:data:`HELD_OUT_START`),
so the thresholds never saw the images they judge.  docs/concepts.md has
both sets of numbers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..checks.basic import CheckFailure
from ..models import get_model_cfg, load_model
from ..models.zoo import SPURIOUS_ZOO, trained_on
from .data import bias_set
from .probe import (
    BIAS_EXPLAINERS,
    EXPLAINER_PARAMS,
    applicable,
    background_area,
    background_reliance,
    counterfactual_effect,
    cue_accuracy,
    rank_agreement,
)

BIAS_N = 16
HELD_OUT_START = 16  # the checks' images: balanced test images 16-31
# Calibration (images 0-15, 2026-12-01): outside share, clean twin -> spurious model
#   gradcam     resnet 0.606 -> 0.833   vit 0.738 -> 0.699 (reversed: Grad-CAM cannot separate the ViT pair)
#   ig          resnet 0.842 -> 0.898   vit 0.439 -> 0.697
#   lime        resnet 0.744 -> 0.833   vit 0.695 -> 0.738
#   kernelshap  resnet 0.862 -> 0.879   vit 0.764 -> 0.807
#   rollout                             vit 0.387 -> 0.467
MAX_OUTSIDE: dict[tuple[str, str], float] = {
    ("gradcam", "cnn"): 0.72,
    ("gradcam", "transformer"): 0.75,
    ("ig", "cnn"): 0.87,
    ("ig", "transformer"): 0.6,
    ("lime", "cnn"): 0.79,
    ("lime", "transformer"): 0.72,
    ("kernelshap", "cnn"): 0.87,
    ("kernelshap", "transformer"): 0.785,
    ("rollout", "transformer"): 0.43,
}


def threshold(explainer: str, family: str) -> float:
    return MAX_OUTSIDE[(explainer, family)]


def bias_models() -> tuple[str, ...]:
    """The spurious zoo models and their clean twins."""
    twins = tuple(get_model_cfg(m).twin for m in SPURIOUS_ZOO)  # type: ignore[attr-defined]
    return (*SPURIOUS_ZOO, *twins)


@lru_cache(maxsize=16)
def _loaded(name: str, device: str):
    return load_model(name, device=device)


@lru_cache(maxsize=16)
def model_probe(name: str, device: str = "auto") -> dict[str, Any]:
    """Cue accuracy and the counterfactual effect of one model."""
    model, data = _loaded(name, device), bias_set(BIAS_N, start=HELD_OUT_START)
    return dict(
        model=name,
        trained_on=trained_on(model.cfg),
        accuracy=cue_accuracy(model, data),
        counterfactual=counterfactual_effect(model, data),
    )


@lru_cache(maxsize=64)
def reliance(name: str, explainer: str, device: str = "auto", start: int = HELD_OUT_START) -> dict[str, Any]:
    model, data = _loaded(name, device), bias_set(BIAS_N, start=start)
    return background_reliance(model, explainer, data)


def check_cue_accuracy(name: str, *, device: str = "auto") -> dict[str, Any]:
    """Accuracy on aligned/free/conflicting images; a spurious model must lose accuracy off its cue."""
    __tracebackhide__ = True
    p = model_probe(name, device)
    value = dict(model=name, trained_on=p["trained_on"], **p["accuracy"], counterfactual=p["counterfactual"])
    if p["trained_on"] == "shapes-spurious" and not value["conflicting"] < value["aligned"]:
        raise CheckFailure(
            f"cue accuracy: a model trained on shapes-spurious scores {value['conflicting']} on cue-conflicting "
            f"images, not below {value['aligned']} on cue-aligned ones [bias probe on {name}]"
        )
    return value


def check_background_reliance(name: str, explainer: str, *, device: str = "auto") -> dict[str, Any]:
    __tracebackhide__ = True
    r, p = reliance(name, explainer, device), model_probe(name, device)
    limit = threshold(explainer, get_model_cfg(name).family)
    value = dict(
        model=name,
        explainer=explainer,
        trained_on=p["trained_on"],
        outside=r["outside"],
        threshold=limit,
        background_area=round(background_area(bias_set(BIAS_N, start=HELD_OUT_START)), 4),
        flagged=r["outside"] > limit,
        counterfactual=p["counterfactual"],
        params=EXPLAINER_PARAMS.get(explainer, {}),
        n=r["n"],
    )
    if value["flagged"]:
        raise CheckFailure(
            f"background reliance: {explainer} puts {r['outside']:.3f} of its mass outside the object "
            f"> {limit} (background area {value['background_area']:.3f}) [{explainer} on {name}]"
        )
    return value


def bias_study(models: tuple[str, ...] | None = None, *, device: str = "auto") -> dict[str, Any]:
    """Every model x applicable explainer of the probe, and the Spearman agreement per explainer."""
    rows: dict[str, dict[str, Any]] = {}
    for name in models or bias_models():
        cfg = get_model_cfg(name)
        row = dict(model_probe(name, device))
        row["reliance"] = {ex: reliance(name, ex, device) for ex in BIAS_EXPLAINERS if applicable(cfg, ex)}
        rows[name] = row
    return dict(
        models=rows,
        spearman=rank_agreement(rows),
        thresholds={f"{e}/{f}": t for (e, f), t in MAX_OUTSIDE.items()},
        n_images=BIAS_N,
        images=f"balanced shapes test images {HELD_OUT_START}-{HELD_OUT_START + BIAS_N - 1}",
    )
