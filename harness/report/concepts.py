"""``concepts.md`` / ``concepts.json``: the CLIP-Dissect-style tables and the bias table of a run.

Built from the run's case records: ``check_concept_labels`` (one per zoo
model, with its random-weight control) and ``check_background_reliance``
plus ``check_cue_accuracy`` (the bias probe).  Tables, as in the CLIP-Dissect
report: highest similarity by layer and model; concept counts among the
top-50 units per model; unique concepts per model; CNNs against
transformers at each depth; then the ground-truth share and the bias table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import write_atomic, write_json
from .records import CaseRecord
from .table import render_markdown

DEPTH_COLS = ("25", "50", "75", "100", "logits")
METHODS = ("clip_dissect", "netdissect")
METHOD_TITLE = {"clip_dissect": "CLIP-Dissect soft-WPMI", "netdissect": "Network Dissection IoU"}


def _values(cases: list[CaseRecord], check: str) -> list[dict[str, Any]]:
    return [c.value for c in cases if c.check == check and isinstance(c.value, dict)]


def concept_tables(cases: list[CaseRecord]) -> dict[str, Any]:
    vals = _values(cases, "check_concept_labels")
    if not vals:
        return {}
    summaries = [v["summary"] for v in vals] + [v["control_summary"] for v in vals]
    highest = {
        m: [[s["model"], s["family"], *(s["highest_similarity"][d][m] for d in DEPTH_COLS)] for s in summaries]
        for m in METHODS
    }
    top50 = [[s["model"], ", ".join(f"{k} {n}" for k, n in list(s["top50_concepts"].items())[:8])] for s in summaries]
    unique = [[s["model"], s["unique_concepts"]["clip_dissect"], s["unique_concepts"]["netdissect"]] for s in summaries]
    families = []
    for fam in ("cnn", "transformer"):
        group = [v["summary"] for v in vals if v["summary"]["family"] == fam]
        if not group:
            continue
        row: list[object] = [fam, len(group)]
        for d in DEPTH_COLS:
            row.append(round(float(np.mean([s["highest_similarity"][d]["clip_dissect"] for s in group])), 3))
        for d in DEPTH_COLS:
            row.append(round(float(np.mean([s["interpretable_share"][d] for s in group])), 3))
        families.append(row)
    truth = [
        [
            v["model"],
            v["share_by_method"]["clip_dissect"],
            v["share_by_method"]["netdissect"],
            v["share"],
            v["random_share"],
        ]
        for v in vals
    ]
    n = len(vals)
    return dict(
        highest_similarity=highest,
        top50=top50,
        unique=unique,
        families=families,
        truth=truth,
        overall=dict(
            share=float(np.mean([v["share"] for v in vals])),
            random_share=float(np.mean([v["random_share"] for v in vals])),
            chance=vals[0]["chance"],
            models=n,
            top_k=vals[0]["top_k"],
            n_images=vals[0]["n_images"],
            source=vals[0]["source"],
        ),
    )


def bias_tables(cases: list[CaseRecord]) -> dict[str, Any]:
    acc = {v["model"]: v for v in _values(cases, "check_cue_accuracy")}
    rel = _values(cases, "check_background_reliance")
    if not acc and not rel:
        return {}
    rows: dict[str, dict[str, Any]] = {}
    for v in rel:
        r = rows.setdefault(v["model"], dict(reliance={}, flagged={}))
        r["reliance"][v["explainer"]] = v["outside"]
        r["flagged"][v["explainer"]] = v["flagged"]
        r.setdefault("threshold", {})[v["explainer"]] = v["threshold"]
        r["counterfactual"] = v["counterfactual"]
        r["trained_on"] = v["trained_on"]
    explainers = sorted({v["explainer"] for v in rel})
    table = []
    for model in sorted(set(rows) | set(acc)):
        a, r = acc.get(model, {}), rows.get(model, {})
        cf = r.get("counterfactual", {})
        table.append(
            [
                model,
                r.get("trained_on", a.get("trained_on")),
                a.get("aligned"),
                a.get("free"),
                a.get("conflicting"),
                cf.get("prob_drop"),
                cf.get("flip_rate"),
                *(
                    (
                        f"{r['reliance'][e]:.3f} ({'>' if r['flagged'][e] else '<='} {r['threshold'][e]})"
                        if e in r.get("reliance", {})
                        else "-"
                    )
                    for e in explainers
                ),
            ]
        )
    spearman = {v["explainer"]: v.get("spearman") for v in rel if "spearman" in v}
    return dict(explainers=explainers, table=table, spearman=spearman, lime_vs_cam=_lime_vs_cam(rows))


def _lime_vs_cam(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Mean background share of LIME against the CAM family (Grad-CAM) over the models that have both."""
    both = [r for r in rows.values() if "lime" in r["reliance"] and "gradcam" in r["reliance"]]
    if not both:
        return {}
    lime = float(np.mean([r["reliance"]["lime"] for r in both]))
    cam = float(np.mean([r["reliance"]["gradcam"] for r in both]))
    return dict(models=len(both), lime=round(lime, 4), gradcam=round(cam, 4), lime_more=lime > cam)


def write_concepts(out: Path, cases: list[CaseRecord]) -> bool:
    """Write ``concepts.md`` and ``concepts.json`` when the run has dissect or bias cases; returns whether."""
    concepts, bias = concept_tables(cases), bias_tables(cases)
    if not concepts and not bias:
        return False
    write_json(out / "concepts.json", dict(concepts=concepts, bias=bias))
    md = ["# Concepts and bias", ""]
    if concepts:
        md += _probe_markdown(concepts["overall"]) + _concept_markdown(concepts)
    if bias:
        md += _bias_markdown(bias)
    write_atomic(out / "concepts.md", "\n".join(md))
    return True


def _probe_markdown(o: dict[str, Any]) -> list[str]:
    """The probe's settings and the ground-truth share over all models."""
    return [
        f"Probe: {o['n_images']} held-out `shapes` probe images; P from `{o['source']}`; "
        f"CLIP-Dissect top_k = {o['top_k']}; Network Dissection at the top 0.5 % quantile, "
        "interpretable at IoU > 0.04.",
        "",
        f"**Ground truth**: logit units labelled with their class's own concept: {o['share']:.3f} over "
        f"{o['models']} models x 8 classes x 2 methods; random-weight controls {o['random_share']:.3f} "
        f"(chance {o['chance']:.3f}).",
        "",
    ]


def _concept_markdown(concepts: dict[str, Any]) -> list[str]:
    """The CLIP-Dissect report's tables: highest similarity, top-50 concepts, unique concepts, families, truth."""
    md: list[str] = []
    for m in METHODS:
        md += [
            f"## Highest similarity by layer and model ({METHOD_TITLE[m]})",
            "",
            render_markdown(
                ("model", "family", "25 %", "50 %", "75 %", "100 %", "logits"), concepts["highest_similarity"][m]
            ),
            "",
        ]
    md += ["## Concepts among the top-50 units (CLIP-Dissect, hidden layers)", ""]
    md += [render_markdown(("model", "concept counts"), concepts["top50"]), ""]
    md += ["## Unique concepts per model (hidden layers)", ""]
    md += [
        render_markdown(("model", "CLIP-Dissect", "Network Dissection (interpretable units)"), concepts["unique"]),
        "",
    ]
    md += ["## CNNs against transformers at each depth", ""]
    md += [
        "Mean highest soft-WPMI per depth, then the share of Network-Dissection-interpretable units per depth.",
        "",
        render_markdown(
            ("family", "models", *(f"WPMI {d}" for d in DEPTH_COLS), *(f"interp. {d}" for d in DEPTH_COLS)),
            concepts["families"],
        ),
        "",
    ]
    md += ["## Ground truth per model", ""]
    md += [
        render_markdown(("model", "CLIP-Dissect", "Network Dissection", "both", "random control"), concepts["truth"]),
        "",
    ]
    return md


BIAS_HEADERS = ("model", "trained on", "aligned", "free", "conflicting", "cf. prob drop", "cf. flips")


def _bias_markdown(bias: dict[str, Any]) -> list[str]:
    """The bias table, then LIME against Grad-CAM and the Spearman correlations where the run has them."""
    md = ["## Bias probe", ""]
    md += [
        "Accuracy on cue-aligned, cue-free and cue-conflicting images; counterfactual = background hue rotated "
        "(drop of the true class's probability, share of changed predictions); background reliance = attribution "
        "share outside the object mask, with the stated share per explainer and family "
        "(`>`: flagged).",
        "",
        render_markdown((*BIAS_HEADERS, *bias["explainers"]), bias["table"]),
        "",
    ]
    lc = bias["lime_vs_cam"]
    if lc:
        md += [
            f"LIME puts {lc['lime']:.3f} of its mass on the background against Grad-CAM's {lc['gradcam']:.3f} "
            f"(mean over {lc['models']} models): the CLIP-Dissect report's finding "
            f"{'holds' if lc['lime_more'] else 'does not hold'} here.",
            "",
        ]
    if bias["spearman"]:
        md += [
            "Spearman over models, background reliance against the counterfactual drop: "
            + ", ".join(f"{e} {s}" for e, s in bias["spearman"].items()),
            "",
        ]
    return md
