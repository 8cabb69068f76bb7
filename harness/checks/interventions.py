"""Attributions against intervention ground truth on the ``shapes`` world (issue 26, item 2).

Per image the regions are the class object, each distractor and the background
(:func:`harness.zoo.interventions.regions`); a region's *importance* is the drop of the predicted
class's logit when it is removed (object, distractor) or swapped (background).  Four scores, each
a mean over images, each beside the same score of a random attribution (uniform noise, seeded):

* ``ranking``: Spearman correlation between each region's attribution mass per unit area (its
  share of ``|attr|`` over its share of the pixels: the background covers most of the image, so raw
  mass would rank it first for any map) and its importance relative to the image's logit, pooled
  over every region of every evaluated image (an image has only 2-5 regions, too few to rank alone);
* ``single_deletion``: as FunnyBirds (Hesse et al., ICCV 2023) defines it: per image, the Spearman
  correlation between each part's *summed* (signed) attribution and the drop when that part alone
  is deleted, averaged over images.  The parts are the object and the distractors (FunnyBirds'
  parts leave the background out too); images with at least 2 parts (with 2 parts the
  correlation is +-1: whether the larger drop gets the larger sum);
* ``background`` and ``distractors`` (independence): a region whose intervention moves the logit by
  at most ``EPS_REL`` of the original logit is *unimportant*; its attribution density
  (``share / area``) must be at most ``tau`` while the (important) object's is above it.  The score
  is the share of unimportant regions of that kind so separated from the object.  The random
  control is held to the same ``tau`` (a density is scale-free; a noise map's are all about 1).
  ``tau`` is chosen on a tuning split disjoint from the evaluated images (:func:`tune_tau`: of 80
  candidates, the one that best separates important from unimportant regions, by balanced
  accuracy); ``ScoreResult.inflation`` says how much the score would rise if ``tau`` were tuned on
  the evaluated images instead, as FunnyBirds does.

Intervals come from :mod:`harness.compare.bootstrap` (resampling images).  A check passes when the
score is above its control's; the 95 % interval of ``score - control`` is recorded beside it (with
16 images it is wide: it says how far the verdict can be trusted, it does not gate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from ..compare.bootstrap import percentile_interval, resample_weights
from ..compute import replay
from .basic import CheckFailure

EPS_REL = 0.1  # an intervention moving the logit by at most 10 % of it leaves the region unimportant
TAU_CANDIDATES = tuple(float(t) for t in np.round(np.geomspace(0.05, 20.0, 80), 4))  # 80, as FunnyBirds
RESAMPLES = 1000
SCORES = ("ranking", "single_deletion", "background", "distractors")


@dataclass
class RegionTable:
    """One image's regions: importance (logit drop), ``|attr|`` share, signed sum, area share."""

    names: tuple[str, ...]
    importance: np.ndarray
    share: np.ndarray
    signed: np.ndarray
    area: np.ndarray
    logit: float

    @property
    def density(self) -> np.ndarray:
        return self.share / np.maximum(self.area, 1e-12)

    def unimportant(self) -> np.ndarray:
        return np.abs(self.importance) <= EPS_REL * max(abs(self.logit), 1e-6)


def region_table(attr: np.ndarray, effects) -> RegionTable:
    """Attribution per region of one ``[H, W]`` map against ``effects`` (:class:`harness.zoo.effects.Effects`)."""
    names = tuple(effects.regions)
    masks = [effects.regions[n] for n in names]
    mass = np.abs(attr)
    total = float(mass.sum()) or 1.0
    return RegionTable(
        names=names,
        importance=np.array([effects.region_importance(n) for n in names]),
        share=np.array([float(mass[m].sum()) / total for m in masks]),
        signed=np.array([float(attr[m].sum()) for m in masks]),
        area=np.array([float(m.mean()) for m in masks]),
        logit=effects.logit,
    )


def random_attribution(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """The control: uniform noise in [0, 1) (seeded)."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def pooled_ranking(tables: list[RegionTable], weights: np.ndarray | None = None) -> float:
    """Spearman of density against relative importance over all regions of ``tables``; ``weights``
    (resample counts per image) repeat an image's regions."""
    counts = np.ones(len(tables), int) if weights is None else weights.astype(int)
    dens = np.concatenate([np.tile(t.density, c) for t, c in zip(tables, counts)])
    imp = np.concatenate([np.tile(t.importance / max(abs(t.logit), 1e-6), c) for t, c in zip(tables, counts)])
    return _spearman(dens, imp)


def per_image_single_deletion(tables: list[RegionTable]) -> np.ndarray:
    out = []
    for t in tables:
        parts = np.array([n != "background" for n in t.names])
        out.append(_spearman(t.signed[parts], t.importance[parts]))
    return np.array(out)


def _kind(name: str) -> str:
    return "distractors" if name.startswith("distractor_") else name


def tune_tau(tables: list[RegionTable]) -> float:
    """The ``tau`` of :data:`TAU_CANDIDATES` that best separates important regions (density above it)
    from unimportant ones (at or below it), by balanced accuracy over every region of ``tables``."""
    dens = np.concatenate([t.density for t in tables])
    unimp = np.concatenate([t.unimportant() for t in tables])
    if unimp.all() or not unimp.any():
        return float(np.median(TAU_CANDIDATES))
    best, best_acc = TAU_CANDIDATES[0], -1.0
    for tau in TAU_CANDIDATES:
        acc = 0.5 * (float((dens[unimp] <= tau).mean()) + float((dens[~unimp] > tau).mean()))
        if acc > best_acc:
            best, best_acc = tau, acc
    return best


def per_image_independence(tables: list[RegionTable], kind: str, tau: float) -> np.ndarray:
    """Per image: share of its unimportant regions of ``kind`` that the map separates from the object
    at ``tau`` (region density ``<= tau < `` object density); NaN where there is no such region or
    the object itself is unimportant.  Requiring the object above ``tau`` keeps a flat map (every
    density about 1) from passing by a lenient ``tau``."""
    out = []
    for t in tables:
        names = list(t.names)
        unimp = t.unimportant()
        sel = np.array([_kind(n) == kind for n in names]) & unimp
        if not sel.any() or unimp[names.index("object")]:
            out.append(float("nan"))
            continue
        above = t.density[names.index("object")] > tau
        out.append(float(((t.density[sel] <= tau) & above).mean()))
    return np.array(out)


def per_image(score: str, tables: list[RegionTable], tau: float) -> np.ndarray:
    if score == "single_deletion":
        return per_image_single_deletion(tables)
    return per_image_independence(tables, score, tau)


@dataclass(frozen=True)
class ScoreResult:
    """One score of one explainer on one model, beside its random control."""

    score: str
    value: float
    control: float
    diff_low: float
    diff_high: float
    n_images: int
    tau: float | None = None
    inflation: float | None = None

    def as_dict(self) -> dict:
        def r(v):
            return None if v is None or not np.isfinite(v) else round(float(v), 4)

        return {
            "score": self.score,
            "value": r(self.value),
            "control": r(self.control),
            "diff_ci": [r(self.diff_low), r(self.diff_high)],
            "n_images": self.n_images,
            "tau": self.tau,
            "inflation": r(self.inflation),
        }


def _pooled(tables, controls, seed: int) -> ScoreResult:
    value, control = pooled_ranking(tables), pooled_ranking(controls)
    w = resample_weights(len(tables), resamples=RESAMPLES, seed=seed)
    diffs = np.array([pooled_ranking(tables, row) - pooled_ranking(controls, row) for row in w])
    lo, hi = percentile_interval(diffs[np.isfinite(diffs)])
    return ScoreResult("ranking", value, control, float(lo), float(hi), len(tables))


def _mean_interval(diff: np.ndarray, seed: int) -> tuple[float, float]:
    if len(diff) < 2:
        return float("nan"), float("nan")
    w = resample_weights(len(diff), resamples=RESAMPLES, seed=seed)
    lo, hi = percentile_interval(w @ diff / len(diff))
    return float(lo), float(hi)


def evaluate(
    score: str,
    tables: list[RegionTable],
    controls: list[RegionTable],
    tune: list[RegionTable],
    *,
    seed: int = 0,
) -> ScoreResult:
    """``score`` on the evaluated ``tables`` beside the random ``controls`` (thresholds from ``tune``)."""
    if score == "ranking":
        return _pooled(tables, controls, seed)
    tau = tune_tau(tune) if score in ("background", "distractors") else None
    vals = per_image(score, tables, tau or 0.0)
    ctrl = per_image(score, controls, tau or 0.0)  # density is scale-free: the control is held to the same tau
    ok = np.isfinite(vals) & np.isfinite(ctrl)
    diff = vals[ok] - ctrl[ok]
    lo, hi = _mean_interval(diff, seed)
    inflation = None
    if tau is not None and ok.any():
        tuned_here = per_image(score, tables, tune_tau(tables))
        inflation = float(np.nanmean(tuned_here[ok]) - np.nanmean(vals[ok]))
    return ScoreResult(
        score=score,
        value=float(np.mean(vals[ok])) if ok.any() else float("nan"),
        control=float(np.mean(ctrl[ok])) if ok.any() else float("nan"),
        diff_low=lo,
        diff_high=hi,
        n_images=int(ok.sum()),
        tau=tau,
        inflation=inflation,
    )


class NotApplicable(replay.NotApplicable):
    """No evaluated image has a region the score needs (an unimportant background, a distractor)."""


def assert_beats_control(result: ScoreResult, *, case: str) -> None:
    """The score must be above its random control's (the interval is in the message, not the gate)."""
    __tracebackhide__ = True
    if result.n_images == 0:
        raise NotApplicable(f"intervention {result.score}: no evaluated image has a region it applies to [{case}]")
    if not (result.value > result.control):
        raise CheckFailure(
            f"intervention {result.score}: {result.value:.3f} <= random control {result.control:.3f} "
            f"(95 % interval of the difference [{result.diff_low:.3f}, {result.diff_high:.3f}]) "
            f"on {result.n_images} images [{case}]"
        )


USES_MIN_SHARE = 0.5  # a model "uses" an element when its intervention is important on at least half the images


def usage(effects_list) -> dict[str, float]:
    """Per element kind, the share of images where its intervention is important (``> EPS_REL`` of the logit).

    ``object`` (removal), ``colour`` and ``texture`` (the object's appearance), ``background`` (swap,
    or tint where there is one) and ``distractors`` (any one of them)."""

    def share(pred) -> float:
        flags = [pred(e) for e in effects_list]
        flags = [f for f in flags if f is not None]
        return round(float(np.mean(flags)), 4) if flags else float("nan")

    def important(e, value: float) -> bool:
        return abs(value) > EPS_REL * max(abs(e.logit), 1e-6)

    dis = [n for n in ("distractor_0", "distractor_1", "distractor_2")]
    return {
        "object": share(lambda e: important(e, e.drop("object"))),
        "colour": share(lambda e: important(e, e.drop("colour"))),
        "texture": share(lambda e: important(e, e.drop("texture"))),
        "background": share(lambda e: important(e, e.region_importance("background"))),
        "distractors": share(
            lambda e: (
                any(important(e, e.drop(n)) for n in dis if n in e.names) if any(n in e.names for n in dis) else None
            )
        ),
    }


def beyond_object(use: dict[str, float]) -> tuple[str, ...]:
    """The elements besides the object that the model uses (``background``, ``distractors``): important
    on ``>= USES_MIN_SHARE`` of the images.  Empty where the object masks are the whole ground truth."""
    return tuple(k for k in ("background", "distractors") if use[k] >= USES_MIN_SHARE)


def uses_object(use: dict[str, float]) -> bool:
    return use["object"] >= USES_MIN_SHARE


def assert_masks_agree(use: dict[str, float], *, case: str) -> None:
    """Mask-based localisation assumes the model uses the object and nothing else: the object's
    intervention important on ``>= USES_MIN_SHARE`` of the images, background and distractors on fewer."""
    __tracebackhide__ = True
    if not (uses_object(use) and not beyond_object(use)):
        raise CheckFailure(
            f"masks vs interventions: object important on {use['object']:.2f} of images, background on "
            f"{use['background']:.2f}, distractors on {use['distractors']:.2f} (uses: >= {USES_MIN_SHARE}) [{case}]"
        )
