"""Score one model x explainer case with a metric, next to the random-attribution control, and store it.

The control is uniform random maps seeded from the model and images
(``random`` in the store and the leaderboard).  It is scored by the same
metric, on the same images and seed, in the same call, so metrics whose
forward passes do not depend on the maps share them; once stored, the
other explainers of the same model, images and parameters reuse it.  A result is a
``metric`` store entry keyed by model, weights, explainer (+ parameters and
version), metric (+ parameters and version), image digests and targets;
``python -m harness leaderboard`` reads them back without computing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np

from ..checks.localisation import random_control
from ..checks.quantus_asserts import install
from ..compute.store import library_versions
from .inputs import MetricInputs
from .registry import get_metric

CONTROL = "random"
KIND = "metric"


@dataclass
class MetricResult:
    model: str
    explainer: str
    metric: str
    category: str
    higher_is_better: bool
    params: dict[str, Any]
    scores: np.ndarray  # per image
    control: np.ndarray  # per image, the random-attribution control
    seconds: float

    @property
    def score(self) -> float:
        return float(np.nanmean(self.scores))

    @property
    def control_score(self) -> float:
        return float(np.nanmean(self.control))

    @property
    def separates(self) -> bool:
        """The explainer scores better than the random control (strictly, in the metric's direction)."""
        s, c = self.score, self.control_score
        return bool(s > c) if self.higher_is_better else bool(s < c)

    def summary(self) -> dict[str, Any]:
        """The value a metric case shows in the report."""
        return {
            "metric": self.metric,
            "score": self.score,
            "random": self.control_score,
            "higher_is_better": self.higher_is_better,
            "beats_random": self.separates,
            "images": len(self.scores),
        }

    def gate_failure(self, case: str) -> str:
        """Why a gated metric fails the case: the explainer does not beat the random control."""
        direction = "higher" if self.higher_is_better else "lower"
        return (
            f"{self.metric}: {self.explainer} scores {self.score:.4g}, random attributions "
            f"{self.control_score:.4g} ({direction} is better): "
            f"the metric cannot tell them apart on {len(self.scores)} images [{case}]"
        )


def control_maps(shape: tuple[int, ...], model: str, digests: list[str]) -> np.ndarray:
    return random_control(shape, f"{CONTROL}-{model}-" + ",".join(d[:12] for d in digests))


def _fields(
    base: dict[str, Any],
    explainer: str,
    explainer_params: dict,
    explainer_version: str,
    metric: str,
    version: str,
    params: dict,
    digests: list[str],
    targets: np.ndarray,
) -> dict[str, Any]:
    return {
        **base,
        "explainer": explainer,
        "explainer_params": explainer_params,
        "explainer_version": explainer_version,
        "metric": metric,
        "metric_version": version,
        "metric_params": params,
        "images": list(digests),
        "targets": [int(t) for t in targets],
        "versions": {**library_versions(), "quantus": _quantus_version()},
    }


def _quantus_version() -> str:
    return version("quantus")


def _stored_result(cfg, metric: str, base: dict[str, Any], explainer: str, params, hit: dict) -> MetricResult:
    """A :class:`MetricResult` from the stored entries of the explainer and its control."""
    return MetricResult(
        metric=metric,
        model=base.get("model", "?"),
        explainer=explainer,
        category=cfg.category,
        higher_is_better=cfg.higher_is_better,
        params=params,
        scores=hit[explainer].arrays["scores"],
        control=hit[CONTROL].arrays["scores"],
        seconds=float(hit[explainer].meta.get("seconds", 0.0)),
    )


def fetch_case(
    store,
    metric: str,
    targets: np.ndarray,
    *,
    base: dict[str, Any],
    explainer: str,
    explainer_params: dict,
    explainer_version: str,
    digests: list[str],
    **overrides: Any,
) -> MetricResult | None:
    """The stored result of :func:`evaluate_case` for these inputs when both it and its control are
    stored (counted as hits), else None (nothing counted): what a warm rerun needs, without inputs."""
    cfg, _ = get_metric(metric)
    params = cfg.params(**overrides)
    keys = {
        who: _fields(base, who, p, v, metric, cfg.version, params, digests, targets)
        for who, p, v in ((explainer, explainer_params, explainer_version), (CONTROL, {}, "1"))
    }
    if not all(store.has(KIND, f) for f in keys.values()):
        return None
    hit = {who: store.get(KIND, f) for who, f in keys.items()}
    if not all(hit.values()):
        return None
    return _stored_result(cfg, metric, base, explainer, params, hit)


def evaluate_case(
    inp: MetricInputs,
    attributions: np.ndarray,
    metric: str,
    *,
    store=None,
    base: dict[str, Any] | None = None,
    explainer: str = "?",
    explainer_params: dict | None = None,
    explainer_version: str = "1",
    digests: list[str] | None = None,
    meta: dict | None = None,
    **overrides: Any,
) -> MetricResult:
    """Score ``attributions`` (``[N, H, W]``) and the random control; fetch from / write to ``store``."""
    cfg, fn = get_metric(metric)
    params = cfg.params(**overrides)
    digests = digests or [str(i) for i in range(len(attributions))]
    keys = {}
    hit: dict[str, Any] = {}
    if store is not None:
        for who, p, v in ((explainer, explainer_params or {}, explainer_version), (CONTROL, {}, "1")):
            keys[who] = _fields(base or {}, who, p, v, metric, cfg.version, params, digests, inp.y)
        hit = {who: store.get(KIND, f) for who, f in keys.items()}
        if all(hit.values()):
            return _stored_result(cfg, metric, base or {}, explainer, params, hit)
    # Every metric scores each set on its own (own normalisation, own seeded draws; tests/test_metrics_cases.py),
    # and the control's key holds no explainer: the other explainers of the same model, images and parameters
    # reuse a stored control instead of paying its forward passes again.
    reuse = bool(hit.get(CONTROL))
    sets = {explainer: np.nan_to_num(attributions).astype(np.float32)}
    if not reuse:
        sets[CONTROL] = control_maps(attributions.shape, (base or {}).get("model", "?"), digests)

    install()  # Quantus's input assertion without its set of every float (harness.checks.quantus_asserts)
    start = time.perf_counter()
    out = fn(inp, sets, **params)
    seconds = time.perf_counter() - start
    _one_per_image(out, len(attributions), metric, (base or {}).get("model", "?"))
    control = hit[CONTROL].arrays["scores"] if reuse else out[CONTROL]
    res = MetricResult(
        model=(base or {}).get("model", "?"),
        explainer=explainer,
        metric=metric,
        category=cfg.category,
        higher_is_better=cfg.higher_is_better,
        params=params,
        scores=np.asarray(out[explainer], float),
        control=np.asarray(control, float),
        seconds=seconds,
    )
    if store is not None:
        _put_result(store, keys, res, cfg, {**(meta or {}), "forward": inp.forward_how or "eager"}, reuse=reuse)
    return res


def _one_per_image(out: dict[str, Any], images: int, metric: str, model: str) -> None:
    """Raise, before anything is stored, when a set's scores are not one per image (Quantus 0.5.3's
    FaithfulnessCorrelation and MonotonicityCorrelation return other shapes through the harness's calls)."""
    for who, scores in out.items():
        if np.shape(scores) != (images,):
            raise ValueError(
                f"{metric} [{who} on {model}]: scores of shape {np.shape(scores)} for {images} images, not one per "
                f"image; quantus {_quantus_version()} is not the API this metric is written for (quantus>=0.6)"
            )


def _put_result(store, keys: dict[str, dict], res: MetricResult, cfg, meta: dict, *, reuse: bool) -> None:
    """Store the explainer's scores, and the control's unless a stored control was reused."""
    info = {
        **meta,
        "category": cfg.category,
        "higher_is_better": cfg.higher_is_better,
        "title": cfg.title,
        "control": cfg.control,
        "seconds": res.seconds,
        "created": time.time(),
    }
    store.put(
        KIND, keys[res.explainer], {"scores": res.scores}, {**info, "separates": res.separates, "control_reused": reuse}
    )
    if not reuse:
        store.put(KIND, keys[CONTROL], {"scores": res.control}, info)
