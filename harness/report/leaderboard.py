"""The leaderboard: metric tables, the aggregate rank and the metrics' agreement, as text, Markdown, CSV and JSON.

Rendering only.  The results come from the store through
:func:`harness.report.metric_results.collect_metrics`; the statistics (sign
test, median-standardised aggregate rank, Kendall's tau between metrics and
their bootstrap over images) live in :mod:`harness.compare.leaderboard_stats`.

Per metric: an explainer x model table of mean scores with the
random-attribution control beside them, and a flag where the explainer does
not beat the control.  With ``n`` images the smallest possible sign-test p
is ``0.5 ** n`` (0.0625 at the suite's default 4), so a small run can flag
a metric that cannot tell an explainer from random, but cannot establish
that it can; the report says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..compare.bootstrap import BootstrapOptions
from ..compare.leaderboard_stats import (
    LeaderboardBootstrap,
    MetricResult,
    aggregate_rank,
    agreement,
    bootstrap_leaderboard,
)
from ..compute.store import Store
from ..core.atomic import write_atomic
from .metric_results import CONTROL, collect_metrics
from .table import render_markdown, render_table

SIGNIFICANT = 0.05


def separation_table(rows: list[MetricResult]) -> tuple[list[str], list[list[object]]]:
    """Per metric: results, how many beat the control on the mean, on most images, and at p < 0.05."""
    body = []
    for metric in sorted({r.metric for r in rows}):
        sub = [r for r in rows if r.metric == metric]
        n_img = sorted({r.images for r in sub})
        body.append(
            [
                metric,
                len(sub),
                sum(r.beats_random for r in sub),
                sum(r.images_won > r.images_lost for r in sub),
                sum(bool(r.sign_p < SIGNIFICANT) for r in sub),
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


def fmt_ci(estimate: float, low: float, high: float) -> str:
    """``0.821 [0.75, 0.884]`` (3 significant digits); an empty string for a missing estimate."""
    if estimate is None or not np.isfinite(estimate):
        return ""
    return f"{estimate:.3g} [{low:.3g}, {high:.3g}]"


def metric_tables(
    rows: list[MetricResult], boot: LeaderboardBootstrap | None = None
) -> dict[str, tuple[list[str], list[list[object]]]]:
    """metric -> (headers, rows): explainer x model, ``score [interval]``, ``*`` where random is not beaten."""
    index = {id(r): i for i, r in enumerate(rows)}

    def cell(r: MetricResult, control: bool = False) -> str:
        value = r.random if control else r.score
        if boot is None:
            return f"{value:.4g}"
        i = index[id(r)]
        lo, hi = (boot.control_low, boot.control_high) if control else (boot.score_low, boot.score_high)
        return fmt_ci(value, lo[i], hi[i]) or f"{value:.4g}"

    out = {}
    for metric in sorted({r.metric for r in rows}):
        sub = [r for r in rows if r.metric == metric]
        models = sorted({r.model for r in sub})
        by = {(r.explainer, r.model): r for r in sub}
        body: list[list[object]] = []
        for e in sorted({r.explainer for r in sub}):
            line: list[object] = [e]
            for m in models:
                r = by.get((e, m))
                line.append("" if r is None else f"{cell(r)}{'' if r.beats_random else ' *'}")
            body.append(line)
        ctrl: list[object] = [CONTROL]
        ctrl += [next((cell(r, control=True) for r in sub if r.model == m), "") for m in models]
        out[metric] = (["explainer"] + models, body + [ctrl])
    return out


AGG_HEADERS = ("rank", "explainer", "median-standardised", "cells")
AGG_BOOT_HEADERS = ("rank", "explainer", "median-standardised [95 %]", "rank median [95 %]", "P(rank 1)", "cells")


def aggregate_table(
    rows: list[MetricResult], boot: LeaderboardBootstrap | None
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
    rows: list[MetricResult], boot: LeaderboardBootstrap | None
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


def flagged(rows: list[MetricResult]) -> list[MetricResult]:
    """The results that do not beat the random-attribution control on the mean."""
    return [r for r in rows if not r.beats_random]


def render_text(rows: list[MetricResult], boot: LeaderboardBootstrap | None = None) -> str:
    """The leaderboard as text tables; intervals from ``boot`` (resampled here when not given)."""
    if not rows:
        return "no metric results in the store (run `pytest suites/test_metrics.py` first)"
    if boot is None:
        boot = bootstrap_leaderboard(rows)
    parts = []
    for metric, (headers, body) in metric_tables(rows, boot).items():
        r0 = next(r for r in rows if r.metric == metric)
        note = f"; random control: {r0.control}" if r0.control else ""
        parts.append(
            render_table(
                headers,
                body,
                title=f"{metric} ({'higher' if r0.higher_is_better else 'lower'}"
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
    options = bootstrap or BootstrapOptions()
    boot = bootstrap_leaderboard(rows, options) if options.resamples else None
    names, tau, counts = agreement(rows)
    results = _results(rows, boot)
    _write_csvs(out, results, names, tau)
    summary = {
        "bootstrap": options.describe() | {"paired": "results on the same images share their resamples"}
        if boot is not None
        else None,
        "results": results,
        "aggregate": boot.aggregate if boot is not None else aggregate_rank(rows),
        "agreement": _agreement_json(names, tau, counts, boot),
        "flagged": [{k: getattr(r, k) for k in FLAGGED_FIELDS} for r in flagged(rows)],
    }
    write_atomic(out / "leaderboard.json", json.dumps(_plain(summary), indent=2, default=str, allow_nan=False))
    write_atomic(out / "leaderboard.md", "\n".join(_markdown(rows, boot)))
    return summary


FLAGGED_FIELDS = (
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


def _results(rows: list[MetricResult], boot: LeaderboardBootstrap | None) -> list[dict[str, Any]]:
    """Each result's public fields, with its score's and control's intervals when bootstrapped."""
    results = [r.public() for r in rows]
    if boot is not None:
        for i, r in enumerate(results):
            r["score_interval"] = [float(boot.score_low[i]), float(boot.score_high[i])]
            r["random_interval"] = [float(boot.control_low[i]), float(boot.control_high[i])]
    return results


def _write_csvs(out: Path, results: list[dict[str, Any]], names: list[str], tau: np.ndarray) -> None:
    """``leaderboard.csv`` (a row per result, intervals as ``_low``/``_high`` columns) and ``metric_agreement.csv``."""
    import pandas as pd  # lazy: drift overlays may pin a numpy this pandas was not built for

    frame = pd.DataFrame(results).drop(columns=["params"])
    for col in ("score_interval", "random_interval"):
        if col in frame:
            frame[col + "_low"] = [v[0] for v in frame[col]]
            frame[col + "_high"] = [v[1] for v in frame[col]]
            frame = frame.drop(columns=[col])
    write_atomic(out / "leaderboard.csv", frame.to_csv(index=False, float_format="%.6g"))
    agreement_csv = pd.DataFrame(tau, index=names, columns=names).to_csv(float_format="%.4f")
    write_atomic(out / "metric_agreement.csv", agreement_csv)


def _agreement_json(
    names: list[str], tau: np.ndarray, counts: np.ndarray, boot: LeaderboardBootstrap | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"metrics": names, "kendall_tau": _nan_none(tau), "cells": counts.tolist()}
    if boot is not None:
        out["kendall_tau_low"] = _nan_none(boot.tau_low)
        out["kendall_tau_high"] = _nan_none(boot.tau_high)
    return out


def _markdown(rows: list[MetricResult], boot: LeaderboardBootstrap | None) -> list[str]:
    """The lines of ``leaderboard.md``."""
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
        r0 = next(r for r in rows if r.metric == metric)
        md += [f"## {metric} ({r0.category}; {'higher' if r0.higher_is_better else 'lower'} is better)", ""]
        if r0.control:
            md += [f"Random control here: {r0.control}.", ""]
        md += [render_markdown(headers, body), ""]
    return md + _markdown_separation(rows) + _markdown_aggregate(rows, boot)


def _markdown_separation(rows: list[MetricResult]) -> list[str]:
    headers, body = separation_table(rows)
    return [
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


def _markdown_aggregate(rows: list[MetricResult], boot: LeaderboardBootstrap | None) -> list[str]:
    a_headers, a_body = aggregate_table(rows, boot)
    t_headers, t_body = agreement_table(rows, boot)
    return [
        "## Aggregate rank (median-standardised, as LATEC)",
        "",
        render_markdown(a_headers, a_body),
        "",
        "## Metric agreement (Kendall's tau between rankings of explainer x model)",
        "",
        render_markdown(t_headers, t_body),
        "",
    ]


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
