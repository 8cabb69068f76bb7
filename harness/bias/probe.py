"""The spurious-cue bias probe: accuracy by cue condition, background reliance, counterfactual effect.

* :func:`cue_accuracy`: top-1 on ``aligned``, ``free`` and ``conflicting``
  images (:mod:`harness.bias.data`).  A model that learnt the cue drops off
  ``aligned``; one that learnt the object does not.
* :func:`background_reliance`: an explainer's attribution mass outside the
  object mask, ``sum |A| outside / sum |A|`` per image, averaged, on the
  images of the model's own world (:func:`~harness.bias.data.base_condition`:
  ``aligned`` for a spurious model, where cue and object agree, ``free`` for
  a clean one).  A map spread evenly would score the background's area
  share (:func:`background_area`).
* :func:`counterfactual_effect`: recolour the background of those images
  (hue rotated by 1/8, 2/8, 3/8 of a turn; :data:`N_COUNTERFACTUALS`) and
  measure how the prediction moves: the mean drop of the true class's
  softmax probability, and the share of predictions that change.
* :func:`rank_agreement`: per explainer, Spearman's rho over models between
  background reliance and the counterfactual effect: does the explainer
  rank the models as the model's own behaviour does?
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

from ..explainers import create_explainer, get_explainer_cfg
from ..images.preprocess import normalize
from .data import CONDITIONS, BiasSet, base_condition

N_COUNTERFACTUALS = 3
# Explainers of the probe, cheapest first; rollout applies to transformers only (ExplainerCfg.supports).
BIAS_EXPLAINERS = ("gradcam", "ig", "lime", "kernelshap", "rollout")
# Cheaper settings for the sampling explainers on the probe (stated in the report).
EXPLAINER_PARAMS: dict[str, dict[str, Any]] = {
    "ig": {"n_steps": 16},
    "lime": {"n_samples": 64},
    "kernelshap": {"n_samples": 64},
}


def _inputs(model, images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).to(model.device).permute(0, 3, 1, 2).float() / 255
    return normalize(x, model.cfg)


@torch.no_grad()
def probabilities(model, images: np.ndarray, batch: int = 64) -> np.ndarray:
    out = [
        torch.softmax(model.module(_inputs(model, images[s : s + batch])).float(), 1).cpu().numpy()
        for s in range(0, len(images), batch)
    ]
    return np.concatenate(out)


def cue_accuracy(model, data: BiasSet) -> dict[str, float]:
    """Top-1 per cue condition (``conflicting`` averaged over the counterfactual tints)."""
    out = {}
    for cond in CONDITIONS:
        reps = range(N_COUNTERFACTUALS) if cond == "conflicting" else range(1)
        acc = [float((probabilities(model, data.condition(cond, j)).argmax(1) == data.labels).mean()) for j in reps]
        out[cond] = round(float(np.mean(acc)), 4)
    out["drop_free"] = round(out["aligned"] - out["free"], 4)
    out["drop_conflicting"] = round(out["aligned"] - out["conflicting"], 4)
    return out


def counterfactual_effect(model, data: BiasSet) -> dict[str, Any]:
    """How much recolouring the background moves the prediction (on the model's own condition)."""
    base = base_condition(model.cfg)
    p0 = probabilities(model, data.condition(base))
    idx = np.arange(len(data))
    drops, flips = [], []
    for j in range(1, N_COUNTERFACTUALS + 1):
        p1 = probabilities(model, data.recoloured(base, j))
        drops.append(p0[idx, data.labels] - p1[idx, data.labels])
        flips.append(p0.argmax(1) != p1.argmax(1))
    return dict(condition=base, prob_drop=round(float(np.mean(drops)), 4), flip_rate=round(float(np.mean(flips)), 4))


def background_area(data: BiasSet) -> float:
    """The background's mean area share: what a map spread evenly would put outside the object."""
    return float(1 - data.masks.mean())


def explain(model, explainer: str, images: np.ndarray, labels: np.ndarray, batch: int = 8) -> np.ndarray:
    ex = create_explainer(explainer, **EXPLAINER_PARAMS.get(explainer, {}))
    maps = []
    for s in range(0, len(images), batch):
        x = _inputs(model, images[s : s + batch])
        maps.append(ex(model, x, torch.from_numpy(labels[s : s + batch]).to(model.device)).attributions)
    return np.concatenate(maps)


def outside_share(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per image: ``sum |A|`` outside the mask over ``sum |A|`` (NaN for an all-zero map)."""
    a = np.abs(maps.astype(np.float64))
    total = a.sum(axis=(1, 2))
    outside = (a * ~masks).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, outside / total, np.nan)


def background_reliance(model, explainer: str, data: BiasSet) -> dict[str, float]:
    """The explainer's mean attribution share outside the object, on the model's own condition."""
    maps = explain(model, explainer, data.condition(base_condition(model.cfg)), data.labels)
    share = outside_share(maps, data.masks)
    return dict(
        outside=round(float(np.nanmean(share)), 4),
        zero_maps=int(np.isnan(share).sum()),
        n=len(share),
    )


def applicable(model_cfg, explainer: str) -> bool:
    return get_explainer_cfg(explainer).supports(model_cfg)


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rho (average ranks for ties); NaN below 3 points."""
    if len(x) < 3:
        return float("nan")

    return float(spearmanr(x, y).statistic)


def rank_agreement(rows: dict[str, dict[str, Any]], explainers: tuple[str, ...] = BIAS_EXPLAINERS) -> dict[str, Any]:
    """Per explainer: Spearman over models of background reliance against the counterfactual probability drop."""
    out = {}
    for ex in explainers:
        pairs = [
            (r["reliance"][ex]["outside"], r["counterfactual"]["prob_drop"])
            for r in rows.values()
            if ex in r.get("reliance", {})
        ]
        out[ex] = dict(
            n_models=len(pairs),
            spearman=round(spearman([p[0] for p in pairs], [p[1] for p in pairs]), 4) if pairs else None,
        )
    return out
