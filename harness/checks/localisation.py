"""Localisation against ground-truth object masks (the zoo's ``shapes`` images).

Quantus computes the scores; the harness supplies each image's mask,
preprocessed exactly like the image (resize and centre crop), and an
explicit **random-attribution control**: uniform random maps, seeded from
the case, scored by the same metrics on the same masks.

* PointingGame: the most relevant pixel lies on the object (hit rate).
* RelevanceMassAccuracy: share of attribution mass on the object.
* RelevanceRankAccuracy: share of the top-|mask| pixels on the object.

Attributions are taken in absolute value (``abs=True``), so signed maps
(IG, Saliency) and non-negative ones (Grad-CAM) are scored alike.  An
all-zero map puts no relevance on the object: Quantus returns NaN for it
(0/0), which counts as 0 here, and the number of such maps is reported.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import numpy as np

from ..images import read_mask, resize_crop
from ..models import get_model_cfg
from .basic import _fail
from .mask_scope import model_scope
from .quantus_asserts import install

METRICS = ("pointing_game", "relevance_mass", "relevance_rank")
QUANTUS_PARAMS: dict[str, Any] = dict(abs=True, normalise=True, disable_warnings=True)


def case_masks(result, runner) -> np.ndarray | None:
    """Masks of the case's images at the model's input resolution, or None if any is missing."""

    cfg = get_model_cfg(result.model)
    if any(r.mask is None for r in result.records):
        return None
    out = []
    for rec in result.records:
        m = (read_mask(rec.mask).astype(np.uint8) * 255)[..., None].repeat(3, axis=2)
        out.append(resize_crop(m, cfg)[..., 0] > 127)
    return np.stack(out)


def localisation_scores(attributions: np.ndarray, masks: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image Quantus scores of ``[N, H, W]`` maps against ``[N, H, W]`` boolean masks."""
    import quantus  # lazy: quantus takes ~5 s to import

    install()  # Quantus's input assertion without its set of every float (harness.checks.quantus_asserts)

    a = attributions[:, None].astype(np.float32)
    s = masks[:, None].astype(np.float32)
    x = np.zeros((len(a), 3) + a.shape[2:], np.float32)  # unused by these metrics, but required
    y = np.zeros(len(a), int)
    metrics = {
        "pointing_game": quantus.PointingGame(**QUANTUS_PARAMS),
        "relevance_mass": quantus.RelevanceMassAccuracy(**QUANTUS_PARAMS),
        "relevance_rank": quantus.RelevanceRankAccuracy(**QUANTUS_PARAMS),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            k: np.asarray(m(model=None, x_batch=x, y_batch=y, a_batch=a, s_batch=s), dtype=float)
            for k, m in metrics.items()
        }


def random_control(shape: tuple[int, ...], key: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def check_localisation(result, runner) -> dict[str, Any]:
    """Relevance on the object beats random attributions, as far as the object mask can vouch for it.

    The judgement depends on what the model uses (:mod:`harness.checks.mask_scope`, from its stored
    interventions): where it uses the object only, or has no interventions, the check fails when the mean
    RelevanceMassAccuracy is not above that of the random-attribution control on the same masks; where it
    also uses the background or a distractor, only a map that finds the object in neither the mass nor the
    pointing game fails.  Returns all scores, the control's included, with the judgement and why.
    """
    __tracebackhide__ = True
    masks = case_masks(result, runner)
    if masks is None:
        _fail("localisation: the image set has no ground-truth masks", result)
    attr = np.nan_to_num(result.attributions)
    if masks.shape != attr.shape:
        _fail(f"localisation: masks {masks.shape} do not match attributions {attr.shape}", result)
    ours = localisation_scores(attr, masks)
    ctrl = localisation_scores(random_control(attr.shape, f"{result.explainer}-{result.model}"), masks)
    zero = int(sum(not np.any(m) for m in attr))
    out: dict[str, Any] = {k: round(float(np.mean(np.nan_to_num(v, nan=0.0))), 4) for k, v in ours.items()}
    out.update({f"{k}_random": round(float(np.mean(v)), 4) for k, v in ctrl.items()})
    out["object_fraction"] = round(float(masks.mean()), 4)
    out["zero_maps"] = zero
    scope = model_scope(runner, result.model)
    out["judgement"], out["judged_because"] = scope.judgement, scope.why
    if scope.usage is not None:
        out["usage"] = {**scope.usage, "n_images": scope.n_images}
    mass = out["relevance_mass"] > out["relevance_mass_random"]
    pointing = out["pointing_game"] > out["pointing_game_random"]
    scores = (
        f"relevance mass on the object {out['relevance_mass']:.3f} vs random-attribution control "
        f"{out['relevance_mass_random']:.3f}, pointing game {out['pointing_game']:.2f} vs "
        f"{out['pointing_game_random']:.2f}"
    )
    if scope.judgement == "mask" and not mass:
        _fail(
            f"localisation: relevance mass on the object {out['relevance_mass']:.3f} is not above the "
            f"random-attribution control {out['relevance_mass_random']:.3f} (pointing game "
            f"{out['pointing_game']:.2f} vs {out['pointing_game_random']:.2f}); {scope.why}",
            result,
        )
    if scope.judgement == "object_found" and not (mass or pointing):
        _fail(f"localisation: the map does not find the object ({scope.why}): {scores}", result)
    return out
