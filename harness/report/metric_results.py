"""Read the store's ``metric`` entries into :class:`~harness.compare.leaderboard_stats.MetricResult` records.

No compute: each (model, explainer, metric) keeps its most complete,
latest entry, paired with the random-attribution control
(explainer ``random``) scored on the same model, metric, parameters and
images.
"""

from __future__ import annotations

import numpy as np

from ..compare.leaderboard_stats import MetricResult, nan_mean, sign_test
from ..compute.store import Store, canonical_json

CONTROL = "random"


def collect_metrics(store: Store, *, cases: set[tuple[str, str]] | None = None) -> list[MetricResult]:
    """One result per (model, explainer, metric): the most complete, latest entry, with its control."""
    best: dict[tuple[str, str, str], tuple] = {}
    controls: dict[tuple, np.ndarray] = {}
    for e in store.entries("metric"):
        f, meta = e.fields, e.meta
        ctx = (f["model"], f["metric"], canonical_json(f["metric_params"]), tuple(f["images"]))
        if f["explainer"] == CONTROL:
            controls[ctx] = np.asarray(e.arrays["scores"], float)
            continue
        if cases is not None and (f["model"], f["explainer"]) not in cases:
            continue
        key = (f["model"], f["explainer"], f["metric"])
        rank = (len(f["images"]), meta.get("created", 0.0))
        if key not in best or rank > best[key][0]:
            best[key] = (rank, ctx, np.asarray(e.arrays["scores"], float), f, meta)
    rows = []
    for (model, explainer, metric), (_, ctx, per_image, f, meta) in sorted(best.items()):
        score = nan_mean(per_image)
        ctrl = controls.get(ctx, np.full(0, np.nan))
        control = nan_mean(ctrl)
        hib = bool(meta.get("higher_is_better", True))
        beats = (score > control) if hib else (score < control)
        won, lost, p = sign_test(per_image, ctrl, higher_is_better=hib)
        rows.append(
            MetricResult(
                model=model,
                explainer=explainer,
                metric=metric,
                category=meta.get("category", "?"),
                higher_is_better=hib,
                score=score,
                random=control,
                beats_random=bool(beats),
                images_won=won,
                images_lost=lost,
                sign_p=p,
                images=len(f["images"]),
                params=f["metric_params"],
                label_space=meta.get("label_space"),
                seconds=meta.get("seconds"),
                control=meta.get("control") or "",
                per_image=per_image,
                control_scores=ctrl,
                image_keys=tuple(f["images"]),
            )
        )
    return rows
