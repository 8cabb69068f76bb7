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
import warnings
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import compare
from ..compare.bootstrap import BootstrapOptions
from ..compute.store import Store, canonical_json
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
                "_per_image": per_image,  # private: per-image scores and image keys, for the bootstrap
                "_control": ctrl,
                "_images": tuple(f["images"]),
            }
        )
    return rows


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A result row without its private per-image arrays (what the CSV and JSON files hold)."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


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


def aggregate_scores(rows: list[dict[str, Any]], scores: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Median-standardised aggregate per explainer for each row of ``scores`` ``[B, R]`` (R = ``rows``).

    Returns ``(explainers, [B, E] aggregates, [E] cells)``; the cells are
    those of the full data (``rows``' own scores).  Within each (model,
    metric) the explainers' scores are centred on their median and divided
    by their median absolute deviation (the mean absolute deviation where
    that is 0, else 1), signed so higher is better; a (model, metric) with
    fewer than 2 finite scores counts for nobody.
    """
    sign = _direction(rows)
    explainers = sorted({r["explainer"] for r in rows})
    col = {e: k for k, e in enumerate(explainers)}
    s = np.atleast_2d(np.asarray(scores, np.float64))
    total = np.zeros((s.shape[0], len(explainers)))
    count = np.zeros_like(total)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[(r["model"], r["metric"])].append(i)
    with warnings.catch_warnings():  # all-NaN groups in a resample give NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        for (_, metric), idx in groups.items():
            vals = s[:, idx]
            ok = np.isfinite(vals)
            enough = ok.sum(axis=1, keepdims=True) >= 2
            med = np.nanmedian(vals, axis=1, keepdims=True)
            dev = np.abs(vals - med)
            mad = np.nanmedian(dev, axis=1, keepdims=True)
            mad = np.where(mad == 0, np.nanmean(dev, axis=1, keepdims=True), mad)
            mad = np.where((mad == 0) | ~np.isfinite(mad), 1.0, mad)
            z = sign[metric] * (vals - med) / mad
            use = ok & enough
            cols = [col[rows[i]["explainer"]] for i in idx]
            np.add.at(total.T, cols, np.where(use, z, 0.0).T)
            np.add.at(count.T, cols, use.T.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        agg = np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
    point = np.array([[r["score"] for r in rows]])
    if s.shape[0] == 1 and np.array_equal(s, point, equal_nan=True):
        cells = count[0]
    else:
        cells = aggregate_scores(rows, point)[2]
    return explainers, agg, cells


def aggregate_rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median-standardised scores per (model, metric), averaged per explainer; rank 1 is best."""
    explainers, agg, cells = aggregate_scores(rows, np.array([[r["score"] for r in rows]]))
    kept = [(e, float(agg[0, k]), int(cells[k])) for k, e in enumerate(explainers) if cells[k] > 0]
    kept.sort(key=lambda t: -t[1])
    return [{"rank": i + 1, "explainer": e, "median_standardised": v, "cells": n} for i, (e, v, n) in enumerate(kept)]


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


@dataclass(frozen=True, eq=False)
class LeaderboardBootstrap:
    """The leaderboard resampled over images.

    Images are resampled per image set (the rows that scored the same images
    share their resamples, so their comparison is paired); ``scores`` is
    ``[B, R]`` in ``rows`` order, ``controls`` the same for each row's control.
    """

    options: BootstrapOptions
    scores: np.ndarray
    controls: np.ndarray
    score_low: np.ndarray
    score_high: np.ndarray
    control_low: np.ndarray
    control_high: np.ndarray
    aggregate: list[dict[str, Any]]  # aggregate_rank's rows, with intervals, rank distribution and ties
    tau_low: np.ndarray
    tau_high: np.ndarray


def _image_set_weights(images: tuple, n: int, options: BootstrapOptions) -> np.ndarray:
    key = zlib.crc32(json.dumps([str(i) for i in images]).encode())
    seed = int(np.random.SeedSequence([options.seed, key]).generate_state(1)[0])
    return compare.resample_weights(n, resamples=options.resamples, seed=seed)


def bootstrap_leaderboard(rows: list[dict[str, Any]], options: BootstrapOptions | None = None) -> LeaderboardBootstrap:
    """Intervals of every score, the aggregate rank's distribution and Kendall's tau, from stored per-image scores."""
    from ..compare import ranking
    from ..compare.bootstrap import weighted_means

    options = options or BootstrapOptions()
    b = options.resamples
    scores, controls = np.full((b, len(rows)), np.nan), np.full((b, len(rows)), np.nan)
    weights: dict[tuple, np.ndarray] = {}
    for i, r in enumerate(rows):
        per_image = np.asarray(r.get("_per_image", np.full(0, np.nan)), np.float64)
        if per_image.size == 0:
            continue
        key = (r.get("_images") or tuple(range(per_image.size)), per_image.size)
        if key not in weights:
            weights[key] = _image_set_weights(*key, options)
        w = weights[key]
        scores[:, i] = weighted_means(per_image, w)
        ctrl = np.asarray(r.get("_control", np.full(0, np.nan)), np.float64)
        if ctrl.shape == per_image.shape:
            controls[:, i] = weighted_means(ctrl, w)
    s_lo, s_hi = compare.percentile_interval(scores, options.level)
    c_lo, c_hi = compare.percentile_interval(controls, options.level)

    explainers, agg_b, _ = aggregate_scores(rows, scores)
    point = {a["explainer"]: a for a in aggregate_rank(rows)}
    cols = [k for k, e in enumerate(explainers) if e in point]
    names = [explainers[k] for k in cols]
    sub = agg_b[:, cols]
    summary = ranking.rank_summary(ranking.rank_batch(sub), options.level)
    a_lo, a_hi = compare.percentile_interval(sub, options.level)
    groups = ranking.tie_groups([point[e]["median_standardised"] for e in names], sub, options.level)
    aggregate = []
    for k, e in enumerate(names):
        aggregate.append(
            {
                **point[e],
                "median_standardised_interval": [float(a_lo[k]), float(a_hi[k])],
                **summary[k],
                "tie_group": groups[k],
            }
        )
    aggregate.sort(key=lambda a: a["rank"])
    for a in aggregate:
        members = [x["rank"] for x in aggregate if x["tie_group"] == a["tie_group"]]
        a["rank_shown"] = str(a["rank"]) if len(members) == 1 else f"{min(members)}-{max(members)} (tie)"
        a["tied_with"] = [x["explainer"] for x in aggregate if x["tie_group"] == a["tie_group"] and x is not a]

    metric_names, tau, _ = agreement(rows)
    t_lo, t_hi = np.full_like(tau, np.nan), np.full_like(tau, np.nan)
    sign = _direction(rows)
    cell_of: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for k, r in enumerate(rows):
        if np.isfinite(r["score"]):
            cell_of[r["metric"]][(r["explainer"], r["model"])] = k
    for i, ma in enumerate(metric_names):
        for j, mb in enumerate(metric_names):
            if j < i or not np.isfinite(tau[i, j]):
                continue
            ca = {
                (r["explainer"], r["model"]): k
                for k, r in enumerate(rows)
                if r["metric"] == ma and np.isfinite(r["score"])
            }
            cb = {
                (r["explainer"], r["model"]): k
                for k, r in enumerate(rows)
                if r["metric"] == mb and np.isfinite(r["score"])
            }
            common = sorted(set(ca) & set(cb))
            xa = sign[ma] * scores[:, [ca[c] for c in common]]
            xb = sign[mb] * scores[:, [cb[c] for c in common]]
            lo, hi = compare.percentile_interval(ranking.kendall_tau_batch(xa, xb), options.level)
            t_lo[i, j] = t_lo[j, i] = lo
            t_hi[i, j] = t_hi[j, i] = hi
    return LeaderboardBootstrap(options, scores, controls, s_lo, s_hi, c_lo, c_hi, aggregate, t_lo, t_hi)


def fmt_ci(estimate: float, low: float, high: float) -> str:
    """``0.821 [0.75, 0.884]`` (3 significant digits); an empty string for a missing estimate."""
    if estimate is None or not np.isfinite(estimate):
        return ""
    return f"{estimate:.3g} [{low:.3g}, {high:.3g}]"


def metric_tables(
    rows: list[dict[str, Any]], boot: LeaderboardBootstrap | None = None
) -> dict[str, tuple[list[str], list[list[object]]]]:
    """metric -> (headers, rows): explainer x model, ``score [interval]``, ``*`` where random is not beaten."""
    index = {id(r): i for i, r in enumerate(rows)}

    def cell(r: dict[str, Any], control: bool = False) -> str:
        value = r["random" if control else "score"]
        if boot is None:
            return f"{value:.4g}"
        i = index[id(r)]
        lo, hi = (boot.control_low, boot.control_high) if control else (boot.score_low, boot.score_high)
        return fmt_ci(value, lo[i], hi[i]) or f"{value:.4g}"

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
                line.append("" if r is None else f"{cell(r)}{'' if r['beats_random'] else ' *'}")
            body.append(line)
        ctrl: list[object] = [CONTROL]
        ctrl += [next((cell(r, control=True) for r in sub if r["model"] == m), "") for m in models]
        out[metric] = (["explainer"] + models, body + [ctrl])
    return out


AGG_HEADERS = ("rank", "explainer", "median-standardised", "cells")
AGG_BOOT_HEADERS = ("rank", "explainer", "median-standardised [95 %]", "rank median [95 %]", "P(rank 1)", "cells")


def aggregate_table(
    rows: list[dict[str, Any]], boot: LeaderboardBootstrap | None
) -> tuple[tuple[str, ...], list[list[object]]]:
    """The aggregate-rank table; with ``boot``, intervals, the rank distribution and ties (``2-3 (tie)``)."""
    if boot is None:
        agg = aggregate_rank(rows)
        return AGG_HEADERS, [[a["rank"], a["explainer"], a["median_standardised"], a["cells"]] for a in agg]
    body: list[list[object]] = [
        [
            a["rank_shown"],
            a["explainer"],
            fmt_ci(a["median_standardised"], *a["median_standardised_interval"]),
            f"{a['rank_median']:g} [{a['rank_low']:g}, {a['rank_high']:g}]",
            f"{a['p_first']:.2f}",
            a["cells"],
        ]
        for a in boot.aggregate
    ]
    return AGG_BOOT_HEADERS, body


def agreement_table(
    rows: list[dict[str, Any]], boot: LeaderboardBootstrap | None
) -> tuple[list[str], list[list[object]]]:
    names, tau, _ = agreement(rows)
    body: list[list[object]] = []
    for i, n in enumerate(names):
        line: list[object] = [n]
        for j in range(len(names)):
            v = tau[i, j]
            if not np.isfinite(v):
                line.append(None)
            elif boot is None or i == j:
                line.append(float(v))
            else:
                line.append(fmt_ci(float(v), boot.tau_low[i, j], boot.tau_high[i, j]))
        body.append(line)
    return ["metric"] + names, body


def flagged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r["beats_random"]]


def render_text(rows: list[dict[str, Any]], boot: LeaderboardBootstrap | None = None) -> str:
    """The leaderboard as text tables; intervals from ``boot`` (computed here when the rows carry per-image scores)."""
    if not rows:
        return "no metric results in the store (run `pytest suites/test_metrics.py` first)"
    if boot is None and any("_per_image" in r for r in rows):
        boot = bootstrap_leaderboard(rows)
    parts = []
    for metric, (headers, body) in metric_tables(rows, boot).items():
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
    a_headers, a_body = aggregate_table(rows, boot)
    parts.append(render_table(a_headers, a_body, title="aggregate rank (median-standardised, LATEC)"))
    headers, body = agreement_table(rows, boot)
    parts.append(
        render_table(headers, body, title="metric agreement: Kendall's tau between rankings of explainer x model")
    )
    headers, body = separation_table(rows)
    parts.append(render_table(headers, body, title="beating the random control: means, images won, sign test"))
    bad = flagged(rows)
    parts.append(f"{len(bad)} of {len(rows)} results do not beat the random-attribution control")
    if boot is not None:
        parts.append(_bootstrap_note(boot))
    return "\n\n".join(parts)


def _bootstrap_note(boot: LeaderboardBootstrap) -> str:
    o = boot.options
    return (
        f"[a, b]: {o.level:.0%} percentile intervals from a bootstrap over images (B={o.resamples}, seed {o.seed}; "
        "results on the same images share their resamples); ranks joined by '-' are ties the data cannot break "
        "(the interval of the neighbours' paired difference holds 0)"
    )


def write_leaderboard(
    out: Path,
    store: Store,
    *,
    cases: set[tuple[str, str]] | None = None,
    bootstrap: BootstrapOptions | None = None,
) -> dict[str, Any] | None:
    """``leaderboard.md``, ``leaderboard.csv``, ``leaderboard.json`` and ``metric_agreement.csv`` in ``out``.

    ``bootstrap`` sets the resampling (default: :class:`BootstrapOptions`, B = 1000, seed 0);
    ``resamples=0`` leaves the intervals out.
    """
    rows = collect_metrics(store, cases=cases)
    if not rows:
        return None
    import pandas as pd

    options = bootstrap or BootstrapOptions()
    boot = bootstrap_leaderboard(rows, options) if options.resamples else None
    names, tau, counts = agreement(rows)
    agg = boot.aggregate if boot is not None else aggregate_rank(rows)
    results = [public(r) for r in rows]
    if boot is not None:
        for i, r in enumerate(results):
            r["score_interval"] = [float(boot.score_low[i]), float(boot.score_high[i])]
            r["random_interval"] = [float(boot.control_low[i]), float(boot.control_high[i])]
    frame = pd.DataFrame(results).drop(columns=["params"])
    for col in ("score_interval", "random_interval"):
        if col in frame:
            frame[col + "_low"] = [v[0] for v in frame[col]]
            frame[col + "_high"] = [v[1] for v in frame[col]]
            frame = frame.drop(columns=[col])
    frame.to_csv(out / "leaderboard.csv", index=False, float_format="%.6g")
    pd.DataFrame(tau, index=names, columns=names).to_csv(out / "metric_agreement.csv", float_format="%.4f")
    agreement_json: dict[str, Any] = {"metrics": names, "kendall_tau": _nan_none(tau), "cells": counts.tolist()}
    if boot is not None:
        agreement_json["kendall_tau_low"] = _nan_none(boot.tau_low)
        agreement_json["kendall_tau_high"] = _nan_none(boot.tau_high)
    summary = {
        "bootstrap": options.describe() | {"paired": "results on the same images share their resamples"}
        if boot is not None
        else None,
        "results": results,
        "aggregate": agg,
        "agreement": agreement_json,
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
    (out / "leaderboard.json").write_text(json.dumps(_plain(summary), indent=2, default=str, allow_nan=False))
    md = [
        "# Leaderboard",
        "",
        "Scores are means over the case's images; `*` marks a result that does not beat the "
        "random-attribution control (uniform random maps, same images and seed). Parameters per result: "
        "[leaderboard.json](leaderboard.json).",
        "",
    ]
    if boot is not None:
        md += [_bootstrap_note(boot) + ".", ""]
    for metric, (headers, body) in metric_tables(rows, boot).items():
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
    a_headers, a_body = aggregate_table(rows, boot)
    t_headers, t_body = agreement_table(rows, boot)
    md += [
        "## Aggregate rank (median-standardised, as LATEC)",
        "",
        render_markdown(a_headers, a_body),
        "",
        "## Metric agreement (Kendall's tau between rankings of explainer x model)",
        "",
        render_markdown(t_headers, t_body),
        "",
    ]
    (out / "leaderboard.md").write_text("\n".join(md))
    return summary


def _plain(value: Any) -> Any:
    """Plain JSON values: NaN and infinities as None, NumPy scalars as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _nan_none(a: np.ndarray) -> list:
    """A matrix as nested lists with NaN as None (plain JSON, no NaN tokens)."""
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in np.asarray(a, float)]


def leaderboard_lines(out: Path, *, top: int | None = None) -> list[str]:
    """Terminal lines from ``out/leaderboard.json``: the aggregate rank with its intervals and ties (none if absent);
    ``top`` keeps the first ``top`` ranks and says where the rest is."""
    path = out / "leaderboard.json"
    if not path.is_file():
        return []
    summary = json.loads(path.read_text())
    agg = summary.get("aggregate") or []
    if not agg or summary.get("bootstrap") is None:
        return []
    b = summary["bootstrap"]
    body = [
        [
            a["rank_shown"],
            a["explainer"],
            fmt_ci(a["median_standardised"], *a["median_standardised_interval"]),
            f"{a['rank_median']:g} [{a['rank_low']:g}, {a['rank_high']:g}]",
            f"{a['p_first']:.2f}",
            a["cells"],
        ]
        for a in agg
    ]
    title = (
        f"aggregate rank over metrics and models ({b['level']:.0%} intervals over images, "
        f"B={b['resamples']}, seed {b['seed']}; 'tie': ranks the data cannot break)"
    )
    lines = [render_table(AGG_BOOT_HEADERS, body[:top], title=title)]
    if top is not None and len(body) > top:
        lines.append(f"  ... {len(body) - top} more explainers in {out.name}/leaderboard.md (-v prints them all)")
    return lines
