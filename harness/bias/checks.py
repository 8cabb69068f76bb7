"""``check_background_reliance`` and ``check_cue_accuracy``: the bias probe as checks.

``check_background_reliance`` fails (flags the model) when an explainer puts
more than :data:`MAX_OUTSIDE` of its attribution mass outside the object
mask, on :data:`BIAS_N` class-balanced images of the model's own world
(:func:`~harness.bias.data.base_condition`).  The shares are stated per
explainer: the background covers 93 % of these images on average, so a map
spread evenly would put 0.93 outside; the thresholds sit between what the
clean zoo twins and the spurious models measured (docs/concepts.md).
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
MAX_OUTSIDE: dict[str, float] = {"gradcam": 0.6, "ig": 0.8, "lime": 0.7, "kernelshap": 0.7, "rollout": 0.85}


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
    model, data = _loaded(name, device), bias_set(BIAS_N)
    return dict(
        model=name,
        trained_on=trained_on(model.cfg),
        accuracy=cue_accuracy(model, data),
        counterfactual=counterfactual_effect(model, data),
    )


@lru_cache(maxsize=64)
def reliance(name: str, explainer: str, device: str = "auto") -> dict[str, Any]:
    model, data = _loaded(name, device), bias_set(BIAS_N)
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
    value = dict(
        model=name,
        explainer=explainer,
        trained_on=p["trained_on"],
        outside=r["outside"],
        threshold=MAX_OUTSIDE[explainer],
        background_area=round(background_area(bias_set(BIAS_N)), 4),
        flagged=r["outside"] > MAX_OUTSIDE[explainer],
        counterfactual=p["counterfactual"],
        params=EXPLAINER_PARAMS.get(explainer, {}),
        n=r["n"],
    )
    if value["flagged"]:
        raise CheckFailure(
            f"background reliance: {explainer} puts {r['outside']:.3f} of its mass outside the object "
            f"> {MAX_OUTSIDE[explainer]} (background area {value['background_area']:.3f}) [{explainer} on {name}]"
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
    return dict(models=rows, spearman=rank_agreement(rows), thresholds=MAX_OUTSIDE, n_images=BIAS_N)
