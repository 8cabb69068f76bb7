"""``index.md`` and ``index.html``: one page tying a run's files together.

``index.html`` is the interactive viewer (:mod:`~harness.report.viewer`)
over the run's galleries (:mod:`~harness.report.gallery`); ``index.md`` is
its plain-text twin: the same run, settings, versions and machine as
tables, links to the gallery figures, and the consensus sections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.atomic import write_atomic
from .consensus import interval_cell
from .gallery import write_galleries
from .intervention_panel import add_interventions
from .table import render_markdown, render_table
from .viewer import write_viewer

PAIR_HEADERS = ("model A", "model B", "similarity", "dissimilarity", "images")


def pair_rows(pairs: list[dict[str, Any]]) -> list[list[object]]:
    return [
        [p["a"], p["b"], interval_cell(p, "similarity"), interval_cell(p, "dissimilarity"), p["images"]] for p in pairs
    ]


def _sections(run: dict[str, Any], consensus: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """(heading, [(kind, payload)]) where kind is text, table or image."""
    sections = [("Run", _run_items(run))]
    if not consensus.get("explainers"):
        sections.append(
            ("Consensus", [("text", "fewer than two models with explanations of the same images: nothing to compare")])
        )
    for ex in consensus.get("explainers", []):
        sections.append((f"Consensus: {ex['slug']}", _consensus_items(ex)))
    return sections


def _run_items(run: dict[str, Any]) -> list[tuple[str, Any]]:
    """The run's settings, versions and machine, and links to the run's other pages."""
    meta: list[tuple[str, Any]] = [
        ("text", f"commit `{run.get('commit', '?')}`; open [index.html](index.html) for the interactive viewer"),
    ]
    for name in ("settings", "versions", "machine"):
        table = run.get(name) or {}
        if table:
            meta += [("subheading", name), ("table", (("name", "value"), [[k, v] for k, v in table.items()]))]
    if run.get("has_summary"):
        meta.append(("text", "cases, top-1 and skipped models: [summary.md](summary.md), [summary.json](summary.json)"))
    if run.get("has_properties"):
        meta.append(
            (
                "text",
                "property checks (completeness, conservation per layer, grid artefacts, resolution, "
                "sanity): [properties.md](properties.md), [properties.json](properties.json)",
            )
        )
    if run.get("has_ground_truth"):
        meta.append(
            (
                "text",
                "ground truth (oracles, interventions, masks against interventions): "
                "[ground-truth.md](ground-truth.md)",
            )
        )
    if run.get("has_leaderboard"):
        meta.append(
            (
                "text",
                "metrics: [leaderboard.md](leaderboard.md) (tables, aggregate rank, metric agreement), "
                "[leaderboard.csv](leaderboard.csv), [metric_agreement.csv](metric_agreement.csv)",
            )
        )
    return meta


def _consensus_items(ex: dict[str, Any]) -> list[tuple[str, Any]]:
    """One explainer's consensus: its models and images, then each similarity metric's verdict and files."""
    items: list[tuple[str, Any]] = [
        (
            "text",
            f"params {ex['params']}; {len(ex['models'])} models "
            f"({', '.join(f'{m} [{f}]' for m, f in zip(ex['models'], ex['families']))}); "
            f"{len(ex['images'])} common images",
        ),
    ]
    for m in ex["metrics"]:
        f = m["files"]
        items += [
            ("subheading", f"{m['metric']}"),
            (
                "text",
                f"**{m['verdict']}**; communities: ARI {m['alignment_communities']['ari']:.2f}, "
                f"{m['alignment_communities']['clusters']} communities, modularity {m['modularity']:.2f}",
            ),
            (
                "text",
                f"matrices: [similarity]({f['similarity']}), [dissimilarity]({f['dissimilarity']}), "
                f"[image counts]({f['counts']})",
            ),
            ("image", f["heatmap"]),
            ("image", f["dendrogram"]),
            ("text", "most similar pairs"),
            ("table", (PAIR_HEADERS, pair_rows(m["most_similar"]))),
            ("text", "least similar pairs"),
            ("table", (PAIR_HEADERS, pair_rows(m["least_similar"]))),
        ]
    return items


def gallery_section(gallery: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    """The galleries in plain text: per image set, its models, explainers and one figure per image."""
    items: list[tuple[str, Any]] = [("text", f"normalisation: {gallery.get('normalisation', '')}")]
    if not gallery.get("sets"):
        items.append(("text", "no explanations in the store for this run"))
    for s in gallery.get("sets", []):
        models = ", ".join(f"{m['label']} [{m['family']}]" for m in s["models"])
        items += [
            ("subheading", f"{s['space']}: {len(s['images'])} images"),
            ("text", f"models: {models}"),
            ("text", "explainers: " + ", ".join(f"{e['key']} ({e['cmap']})" for e in s["explainers"])),
        ]
        rows = []
        for im in s["images"]:
            figs = s.get("figures", {}).get(im["slug"], {})
            rows.append([im["id"], im.get("label_name") or "", " ".join(f"[{k}]({v})" for k, v in figs.items())])
        items.append(("table", (("image", "label", "figures"), rows)))
        if s.get("interventions"):
            items.append(("text", f"interventions: {len(s['interventions'])} images (panel in index.html)"))
    return "Galleries", items


def write_index(
    out: Path,
    run: dict[str, Any],
    consensus: dict[str, Any],
    *,
    store: Any = None,
    cases: set[tuple[str, str]] | None = None,
    notes: list[str] | None = None,
) -> None:
    """``index.md`` and ``index.html``; with a ``store``, the galleries too (``out/gallery/``) and the
    interventions panels of their ``shapes`` images (entries left out are named in ``notes``)."""

    title = f"xai-harness run {run.get('run_id', out.name)}"
    gallery = (
        write_galleries(out, store, settings=run.get("settings") or {}, cases=cases)
        if store is not None
        else {"sets": []}
    )
    if store is not None:
        add_interventions(out, store, gallery, notes)
    sections = _sections(run, consensus)
    sections.insert(1, gallery_section(gallery))
    md = [f"# {title}", ""]
    for heading, items in sections:
        md += [f"## {heading}", ""]
        for kind, payload in items:
            if kind == "text":
                md += [payload, ""]
            elif kind == "subheading":
                md += [f"### {payload}", ""]
            elif kind == "image":
                md += [f"![{payload}]({payload})", ""]
            elif kind == "table":
                headers, rows = payload
                md += [render_markdown(headers, rows), ""]
    write_atomic(out / "index.md", "\n".join(md))
    write_viewer(out, run, gallery)


def consensus_lines(consensus: dict[str, Any], *, verbose: bool = True) -> list[str]:
    """Terminal lines: alignment verdicts and the top-5 most and least similar pairs, per explainer.

    Not ``verbose``: one line per explainer group, the first metric's verdict with its interval and the
    other metrics' states; the tables stay in the report (``consensus.json``, ``index.md``)."""
    if not verbose:
        return [_one_line(ex) for ex in consensus.get("explainers", [])]
    lines = []
    for ex in consensus.get("explainers", []):
        for m in ex["metrics"]:
            lines.append(f"{ex['slug']} [{m['metric']}]: {m['verdict']}")
        first = ex["metrics"][0]
        for which in ("most", "least"):
            lines.append(
                render_table(
                    PAIR_HEADERS,
                    pair_rows(first[f"{which}_similar"]),
                    title=f"{ex['slug']}: {which} similar pairs ({first['metric']})",
                )
            )
    return lines


def _one_line(ex: dict[str, Any]) -> str:
    first, *rest = ex["metrics"]
    others = ", ".join(f"{m['metric']}: {m.get('state') or m['verdict'].split(' (')[0]}" for m in rest)
    return f"{ex['slug']} [{first['metric']}]: {first['verdict']}" + (f" ({others})" if others else "")
