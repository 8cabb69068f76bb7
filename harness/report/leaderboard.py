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


def collect_metrics(store: Store, *, cases: set[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """One row per (model, explainer, metric): the most complete, latest entry, with its control."""
    best: dict[tuple[str, str, str], tuple] = {}
    controls: dict[tuple, float] = {}
    for e in store.entries("metric"):
        f, meta = e.fields, e.meta
        ctx = (f["model"], f["metric"], canonical_json(f["metric_params"]), tuple(f["images"]))
        score = float(np.nanmean(e.arrays["scores"])) if e.arrays["scores"].size else float("nan")
        if f["explainer"] == CONTROL:
            controls[ctx] = score
            continue
        if cases is not None and (f["model"], f["explainer"]) not in cases:
            continue
        key = (f["model"], f["explainer"], f["metric"])
        rank = (len(f["images"]), meta.get("created", 0.0))
        if key not in best or rank > best[key][0]:
            best[key] = (rank, ctx, score, f, meta)
    rows = []
    for (model, explainer, metric), (_, ctx, score, f, meta) in sorted(best.items()):
        control = controls.get(ctx, float("nan"))
        hib = bool(meta.get("higher_is_better", True))
        beats = (score > control) if hib else (score < control)
        rows.append({"model": model, "explainer": explainer, "metric": metric, "category": meta.get("category", "?"),
                     "higher_is_better": hib, "score": score, "random": control, "beats_random": bool(beats),
                     "images": len(f["images"]), "params": f["metric_params"], "label_space": meta.get("label_space"),
                     "seconds": meta.get("seconds"), "control": meta.get("control") or ""})
    return rows


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
        body = []
        for e in sorted({r["explainer"] for r in sub}):
            line: list[object] = [e]
            for m in models:
                r = by.get((e, m))
                line.append("" if r is None else f"{r['score']:.4g}{'' if r['beats_random'] else ' *'}")
            body.append(line)
        ctrl = [CONTROL] + [next((f"{r['random']:.4g}" for r in sub if r["model"] == m), "") for m in models]
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
        parts.append(render_table(headers, body, title=f"{metric} ({'higher' if r0['higher_is_better'] else 'lower'}"
                                                       f" is better; * = does not beat random{note})"))
    agg = aggregate_rank(rows)
    parts.append(render_table(("rank", "explainer", "median-standardised", "cells"),
                              [[a["rank"], a["explainer"], a["median_standardised"], a["cells"]] for a in agg],
                              title="aggregate rank (median-standardised, LATEC)"))
    names, tau, _ = agreement(rows)
    parts.append(render_table(["metric"] + names, [[n] + list(tau[i]) for i, n in enumerate(names)],
                              title="metric agreement: Kendall's tau between rankings of explainer x model"))
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
    summary = {"results": rows, "aggregate": agg, "agreement": {"metrics": names, "kendall_tau": tau.tolist(),
                                                                  "cells": counts.tolist()},
               "flagged": [{k: r[k] for k in ("model", "explainer", "metric", "score", "random", "control")}
                           for r in flagged(rows)]}
    (out / "leaderboard.json").write_text(json.dumps(summary, indent=2, default=str))
    md = ["# Leaderboard", "", "Scores are means over the case's images; `*` marks a result that does not beat the "
          "random-attribution control (uniform random maps, same images and seed). Parameters per result: "
          "[leaderboard.json](leaderboard.json).", ""]
    for metric, (headers, body) in metric_tables(rows).items():
        r0 = next(r for r in rows if r["metric"] == metric)
        md += [f"## {metric} ({r0['category']}; {'higher' if r0['higher_is_better'] else 'lower'} is better)", ""]
        if r0.get("control"):
            md += [f"Random control here: {r0['control']}.", ""]
        md += [render_markdown(headers, body), ""]
    md += ["## Aggregate rank (median-standardised, as LATEC)", "",
           render_markdown(("rank", "explainer", "median-standardised", "cells"),
                           [[a["rank"], a["explainer"], a["median_standardised"], a["cells"]] for a in agg]), "",
           "## Metric agreement (Kendall's tau between rankings of explainer x model)", "",
           render_markdown(["metric"] + names, [[n] + [None if np.isnan(v) else float(v) for v in tau[i]]
                                                for i, n in enumerate(names)]), ""]
    (out / "leaderboard.md").write_text("\n".join(md))
    return summary
