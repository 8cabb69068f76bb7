"""``index.md`` and ``index.html``: one page tying a run's files together."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .table import format_cell, render_markdown, render_table

PAIR_HEADERS = ("model A", "model B", "similarity", "dissimilarity", "images")


def pair_rows(pairs: list[dict[str, Any]]) -> list[list[object]]:
    from .consensus import interval_cell  # ``0.82 [0.75, 0.88]`` where the pair carries its interval

    return [
        [p["a"], p["b"], interval_cell(p, "similarity"), interval_cell(p, "dissimilarity"), p["images"]] for p in pairs
    ]


def _sections(run: dict[str, Any], consensus: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """(heading, [(kind, payload)]) where kind is text, table or image."""
    meta = [
        ("text", f"commit `{run.get('commit', '?')}`; machine {run.get('machine', {})}"),
        ("text", f"versions {run.get('versions', {})}"),
        ("text", f"settings {run.get('settings', {})}"),
    ]
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
    if run.get("has_leaderboard"):
        meta.append(
            (
                "text",
                "metrics: [leaderboard.md](leaderboard.md) (tables, aggregate rank, metric agreement), "
                "[leaderboard.csv](leaderboard.csv), [metric_agreement.csv](metric_agreement.csv)",
            )
        )
    sections = [("Run", meta)]
    if not consensus.get("explainers"):
        sections.append(
            ("Consensus", [("text", "fewer than two models with explanations of the same images: nothing to compare")])
        )
    for ex in consensus.get("explainers", []):
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
        sections.append((f"Consensus: {ex['slug']}", items))
    return sections


def write_index(out: Path, run: dict[str, Any], consensus: dict[str, Any]) -> None:
    title = f"xai-harness run {run.get('run_id', out.name)}"
    sections = _sections(run, consensus)
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, items in sections:
        md += [f"## {heading}", ""]
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for kind, payload in items:
            if kind == "text":
                md += [payload, ""]
                body.append(f"<p>{_inline_html(payload)}</p>")
            elif kind == "subheading":
                md += [f"### {payload}", ""]
                body.append(f"<h3>{html.escape(payload)}</h3>")
            elif kind == "image":
                md += [f"![{payload}]({payload})", ""]
                body.append(f'<img src="{html.escape(payload)}" alt="{html.escape(payload)}">')
            elif kind == "table":
                headers, rows = payload
                md += [render_markdown(headers, rows), ""]
                body.append(_html_table(headers, rows))
    (out / "index.md").write_text("\n".join(md))
    (out / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:70em;margin:auto}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:45%}</style>"
        "</head><body>" + "\n".join(body) + "</body></html>"
    )


def _inline_html(text: str) -> str:
    import re

    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"`(.+?)`", r"<code>\1</code>", out)
    return re.sub(r"\[(.+?)\]\((.+?)\)", r'<a href="\2">\1</a>', out)


def _html_table(headers, rows) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(format_cell(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def consensus_lines(consensus: dict[str, Any]) -> list[str]:
    """Terminal lines: alignment verdicts and the top-5 most and least similar pairs, per explainer."""
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
