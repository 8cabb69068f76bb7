"""Leaderboard from stored metric results: tables, an aggregate rank, and how far metrics agree.

Reads ``metric`` entries of the store (no compute).  Per metric: an
explainer x model table of mean scores with the random-attribution control
beside them, and a flag where the explainer does not beat the control.

**Aggregate rank** (median-standardised, as LATEC, Klein et al. 2024,
"Navigating the Maze of Explainable AI", does): within each model and
metric, scores of the explainers are centred on their median and divided by
their median absolute deviation, signed so that higher is better; an
explainer's aggregate is the mean of these over metrics and models.
Medians rather than means keep one outlying method or a metric with a long
tail from dominating, and the division removes the metrics' different
scales, so metrics with large ranges (logit AUCs) do not outvote bounded
ones (correlations).

**Per-image evidence against the control**: besides the means, each
result counts the images where the explainer beats the control, and where
it loses (in the metric's direction; ties count for neither), and gives the
one-sided exact sign test's p-value of "beats it on more images than
chance" (:func:`sign_test`).  With ``n`` images the smallest possible p is
``0.5 ** n`` (0.0625 at the suite's default 4), so a small run can flag a
metric that cannot tell an explainer from random, but cannot establish that
it can; the report says so.

**Agreement matrix**: Kendall's tau between the rankings that two metrics
give to the explainer x model cells both scored (direction-corrected);
LATEC's point is that this is often low, so one ranking misleads.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ..store import Store, canonical_json
from .table import render_markdown, render_table

CONTROL = "random"


def sign_test(scores: np.ndarray, control: np.ndarray, *, higher_is_better: bool) -> tuple[int, int, float]:
    """``(won, lost, p)``: images where ``scores`` beat / lose to ``control``, and the one-sided sign test.

    Ties and non-finite pairs count for neither side; ``p`` is the exact
    binomial probability of winning at least ``won`` of ``won + lost``
    fair coin flips (NaN when every image ties).
    """
    from scipy.stats import binomtest

    s, c = np.asarray(scores, float), np.asarray(control, float)
    if s.shape != c.shape:
        return 0, 0, float("nan")
    ok = np.isfinite(s) & np.isfinite(c)
    d = (s - c)[ok] * (1.0 if higher_is_better else -1.0)
    won, lost = int(np.sum(d > 0)), int(np.sum(d < 0))
    if won + lost == 0:
        return won, lost, float("nan")
    return won, lost, float(binomtest(won, won + lost, 0.5, alternative="greater").pvalue)


def collect_metrics(store: Store, *, cases: set[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """One row per (model, explainer, metric): the most complete, latest entry, with its control."""
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
        score = _mean(per_image)
        ctrl = controls.get(ctx, np.full(0, np.nan))
        control = _mean(ctrl)
        hib = bool(meta.get("higher_is_better", True))
        beats = (score > control) if hib else (score < control)
        won, lost, p = sign_test(per_image, ctrl, higher_is_better=hib)
        rows.append(
            {
                "model": model,
                "explainer": explainer,
                "metric": metric,
                "category": meta.get("category", "?"),
                "higher_is_better": hib,
                "score": score,
                "random": control,
                "beats_random": bool(beats),
                "images_won": won,
                "images_lost": lost,
                "sign_p": p,
                "images": len(f["images"]),
                "params": f["metric_params"],
                "label_space": meta.get("label_space"),
                "seconds": meta.get("seconds"),
                "control": meta.get("control") or "",
            }
        )
    return rows


def _mean(a: np.ndarray) -> float:
    return float(np.nanmean(a)) if a.size and np.any(np.isfinite(a)) else float("nan")


SIGNIFICANT = 0.05


def separation_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[object]]]:
    """Per metric: results, how many beat the control on the mean, on most images, and at p < 0.05."""
    body = []
    for metric in sorted({r["metric"] for r in rows}):
        sub = [r for r in rows if r["metric"] == metric]
        n_img = sorted({r["images"] for r in sub})
        body.append(
            [
                metric,
                len(sub),
                sum(r["beats_random"] for r in sub),
                sum(r["images_won"] > r["images_lost"] for r in sub),
                sum(bool(r["sign_p"] < SIGNIFICANT) for r in sub),
                ", ".join(str(n) for n in n_img),
                f"{0.5 ** max(n_img):.2g}",
            ]
        )
    return (
        [
            "metric",
            "results",
            "beat random (mean)",
            "won most images",
            f"sign test p < {SIGNIFICANT}",
            "images",
            "smallest possible p (most images)",
        ],
        body,
    )


def _direction(rows):
    return {r["metric"]: 1.0 if r["higher_is_better"] else -1.0 for r in rows}


def aggregate_rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median-standardised scores per (model, metric), averaged per explainer; rank 1 is best."""
    sign = _direction(rows)
    groups: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for r in rows:
        groups[(r["model"], r["metric"])][r["explainer"]] = r["score"]
    z: dict[str, list[float]] = defaultdict(list)
    for (_, metric), scores in groups.items():
        vals = np.array([v for v in scores.values() if np.isfinite(v)])
        if len(vals) < 2:
            continue
        med = np.median(vals)
        mad = np.median(np.abs(vals - med))
        if mad == 0:
            mad = np.mean(np.abs(vals - med)) or 1.0
        for e, v in scores.items():
            if np.isfinite(v):
                z[e].append(sign[metric] * (v - med) / mad)
    agg = sorted(((e, float(np.mean(v)), len(v)) for e, v in z.items()), key=lambda t: -t[1])
    return [{"rank": i + 1, "explainer": e, "median_standardised": s, "cells": n} for i, (e, s, n) in enumerate(agg)]


def agreement(rows: list[dict[str, Any]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Kendall's tau between metrics over shared explainer x model cells (NaN with < 3 cells)."""
    from scipy.stats import kendalltau

    sign = _direction(rows)
    cells: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    for r in rows:
        if np.isfinite(r["score"]):
            cells[r["metric"]][(r["explainer"], r["model"])] = sign[r["metric"]] * r["score"]
    names = sorted(cells)
    tau = np.full((len(names), len(names)), np.nan)
    counts = np.zeros((len(names), len(names)), int)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            common = sorted(set(cells[a]) & set(cells[b]))
            counts[i, j] = len(common)
            if len(common) >= 3:
                t = kendalltau([cells[a][c] for c in common], [cells[b][c] for c in common]).statistic
                tau[i, j] = float(t) if np.isfinite(t) else np.nan
    return names, tau, counts


def metric_tables(rows: list[dict[str, Any]]) -> dict[str, tuple[list[str], list[list[object]]]]:
    """metric -> (headers, rows): explainer x model, ``score (random r)``, ``*`` where random is not beaten."""
    out = {}
    for metric in sorted({r["metric"] for r in rows}):
        sub = [r for r in rows if r["metric"] == metric]
        models = sorted({r["model"] for r in sub})
        by = {(r["explainer"], r["model"]): r for r in sub}
        body: list[list[object]] = []
        for e in sorted({r["explainer"] for r in sub}):
            line: list[object] = [e]
            for m in models:
                r = by.get((e, m))
                line.append("" if r is None else f"{r['score']:.4g}{'' if r['beats_random'] else ' *'}")
            body.append(line)
        ctrl: list[object] = [CONTROL]
        ctrl += [next((f"{r['random']:.4g}" for r in sub if r["model"] == m), "") for m in models]
        out[metric] = (["explainer"] + models, body + [ctrl])
    return out


def flagged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r["beats_random"]]


def render_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no metric results in the store (run `pytest suites/test_metrics.py` first)"
    parts = []
    for metric, (headers, body) in metric_tables(rows).items():
        r0 = next(r for r in rows if r["metric"] == metric)
        note = f"; random control: {r0['control']}" if r0.get("control") else ""
        parts.append(
            render_table(
                headers,
                body,
                title=f"{metric} ({'higher' if r0['higher_is_better'] else 'lower'}"
                f" is better; * = does not beat random{note})",
            )
        )
    agg = aggregate_rank(rows)
    parts.append(
        render_table(
            ("rank", "explainer", "median-standardised", "cells"),
            [[a["rank"], a["explainer"], a["median_standardised"], a["cells"]] for a in agg],
            title="aggregate rank (median-standardised, LATEC)",
        )
    )
    names, tau, _ = agreement(rows)
    parts.append(
        render_table(
            ["metric"] + names,
            [[n] + list(tau[i]) for i, n in enumerate(names)],
            title="metric agreement: Kendall's tau between rankings of explainer x model",
        )
    )
    headers, body = separation_table(rows)
    parts.append(render_table(headers, body, title="beating the random control: means, images won, sign test"))
    bad = flagged(rows)
    parts.append(f"{len(bad)} of {len(rows)} results do not beat the random-attribution control")
    return "\n\n".join(parts)


def write_leaderboard(out: Path, store: Store, *, cases: set[tuple[str, str]] | None = None) -> dict[str, Any] | None:
    """``leaderboard.md``, ``leaderboard.csv``, ``leaderboard.json`` and ``metric_agreement.csv`` in ``out``."""
    rows = collect_metrics(store, cases=cases)
    if not rows:
        return None
    import pandas as pd

    names, tau, counts = agreement(rows)
    agg = aggregate_rank(rows)
    pd.DataFrame(rows).drop(columns=["params"]).to_csv(out / "leaderboard.csv", index=False, float_format="%.6g")
    pd.DataFrame(tau, index=names, columns=names).to_csv(out / "metric_agreement.csv", float_format="%.4f")
    summary = {
        "results": rows,
        "aggregate": agg,
        "agreement": {"metrics": names, "kendall_tau": tau.tolist(), "cells": counts.tolist()},
        "flagged": [
            {
                k: r[k]
                for k in (
                    "model",
                    "explainer",
                    "metric",
                    "score",
                    "random",
                    "control",
                    "images_won",
                    "images_lost",
                    "sign_p",
                )
            }
            for r in flagged(rows)
        ],
    }
    (out / "leaderboard.json").write_text(json.dumps(summary, indent=2, default=str))
    md = [
        "# Leaderboard",
        "",
        "Scores are means over the case's images; `*` marks a result that does not beat the "
        "random-attribution control (uniform random maps, same images and seed). Parameters per result: "
        "[leaderboard.json](leaderboard.json).",
        "",
    ]
    for metric, (headers, body) in metric_tables(rows).items():
        r0 = next(r for r in rows if r["metric"] == metric)
        md += [f"## {metric} ({r0['category']}; {'higher' if r0['higher_is_better'] else 'lower'} is better)", ""]
        if r0.get("control"):
            md += [f"Random control here: {r0['control']}.", ""]
        md += [render_markdown(headers, body), ""]
    headers, body = separation_table(rows)
    md += [
        "## Beating the random control",
        "",
        "`*` above compares means. Per image (ties count for neither side): results that win on more images "
        f"than they lose, and results whose one-sided exact sign test gives p < {SIGNIFICANT}. With n images "
        "the smallest possible p is 0.5^n, so at the suite's default 4 images no result can reach "
        f"{SIGNIFICANT}: raise `--harness-metric-images` before reading a separation as established. "
        "Per result: `images_won`, `images_lost`, `sign_p` in leaderboard.csv/.json.",
        "",
        render_markdown(headers, body),
        "",
    ]
    md += [
        "## Aggregate rank (median-standardised, as LATEC)",
        "",
        render_markdown(
            ("rank", "explainer", "median-standardised", "cells"),
            [[a["rank"], a["explainer"], a["median_standardised"], a["cells"]] for a in agg],
        ),
        "",
        "## Metric agreement (Kendall's tau between rankings of explainer x model)",
        "",
        render_markdown(
            ["metric"] + names, [[n] + [None if np.isnan(v) else float(v) for v in tau[i]] for i, n in enumerate(names)]
        ),
        "",
    ]
    (out / "leaderboard.md").write_text("\n".join(md))
    return summary
