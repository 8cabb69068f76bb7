"""A diff as a terminal table, JSON, JUnit XML and an HTML page in the viewer's style.

The page draws, for every moved case, the map before, after and their
difference (B - A, diverging colormap) over the image when the image set is
at hand (:class:`harness.report.gallery.ImageLookup`), with the overlays'
normalisation (:data:`harness.report.overlays.NORMALISATION`).
"""

from __future__ import annotations

import html
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

from ..core.atomic import write_atomic, write_json
from ..report.gallery import ImageLookup
from ..report.overlays import (
    NORMALISATION,
    THUMB,
    Style,
    blend,
    colorize,
    fit_image,
    normalise,
    resize_rgba,
    style_for,
    write_webp,
)
from ..report.table import render_table
from ..report.viewer import asset
from .diff import DiffResult
from .runs import Run

HEADERS = ("case", "cosine", "spearman", "top-10% IoU", "rel L2", "target A->B", "why")
REPORT_HEADERS = ("kind", "what", "A", "B", "note")
MAX_PAGE_CASES = 60  # moved cases drawn on the page (all are in the JSON)


def terminal_lines(result: DiffResult) -> list[str]:
    rows = [
        [
            c.case.label,
            c.change.cosine,
            c.change.spearman,
            c.change.iou,
            c.change.rel_l2,
            f"{c.target_a}->{c.target_b}",
            "; ".join(c.reasons),
        ]
        for c in result.moved
    ]
    out = [f"A: {result.a}", f"B: {result.b}", result.left_out_line()]
    for floor in result.floors.values():
        out.append(f"noise floor {floor.explainer} x {floor.model}: {floor.determinism}, spread {floor.spread:.2g}")
    if rows:
        out.append(render_table(HEADERS, rows, title="cases moved beyond tolerance"))
    moved_report = result.report_moved
    if moved_report:
        body = [[r.kind, r.what, r.before, r.after, r.note] for r in moved_report]
        out.append(render_table(REPORT_HEADERS, body, title="report changes"))
    out.append(result.verdict_line())
    return out


def write_json_report(path: Path, result: DiffResult) -> Path:
    return write_json(path, result.to_dict())


def write_junit(path: Path, result: DiffResult) -> Path:
    """One test case per compared case and report quantity; a moved one is a failure."""
    suite = ET.Element(
        "testsuite",
        name="xai-harness drift",
        tests=str(len(result.cases) + len(result.report)),
        failures=str(len(result.moved) + len(result.report_moved)),
    )
    for c in result.cases:
        tc = ET.SubElement(suite, "testcase", classname=f"drift.{c.case.explainer}.{c.case.model}", name=c.case.image)
        if c.moved:
            ET.SubElement(
                tc, "failure", message="; ".join(c.reasons)
            ).text = f"{c.case.label}: {c.change.to_dict()} [tolerance: {c.tolerance.source}]"
    for r in result.report:
        tc = ET.SubElement(suite, "testcase", classname=f"drift.report.{r.kind}", name=r.what)
        if r.moved:
            ET.SubElement(tc, "failure", message=f"{r.before} -> {r.after}").text = r.note
    return write_atomic(path, ET.tostring(suite, encoding="unicode", xml_declaration=True))


def _overlay(folder: Path, stem: str, attr: np.ndarray, pixels: np.ndarray | None, style) -> str:
    side = max(THUMB, int(max(attr.shape)))
    rgba = resize_rgba(colorize(normalise(attr, style), style), side)
    image = fit_image(pixels, side) if pixels is not None else None
    name = f"{stem}.webp"
    write_webp(folder / name, blend(image, rgba))
    return name


def _pixels_lookup(run: Run, result: DiffResult):
    ids = {c.case.image for c in result.moved}
    try:
        return ImageLookup.for_settings(run.settings, run.store, ids)
    except (OSError, ValueError, KeyError):
        return ImageLookup()


def write_page(out: Path, result: DiffResult, a: Run, b: Run) -> Path:
    """``out/diff.html`` and its overlays in ``out/overlays/``."""

    cards = _moved_cards(out / "overlays", result, a, b)
    rows = "".join(
        f"<tr class='{'outcome-failed' if c.moved else ''}'><td>{html.escape(c.case.label)}</td>"
        f"<td>{c.change.cosine:.6f}</td><td>{c.change.spearman:.4f}</td><td>{c.change.iou:.3f}</td>"
        f"<td>{c.change.rel_l2:.3g}</td><td>{c.target_a}->{c.target_b}</td>"
        f"<td>{html.escape('; '.join(c.reasons))}</td></tr>"
        for c in sorted(result.cases, key=lambda c: (not c.moved, c.change.cosine))
    )
    report_rows = "".join(
        f"<tr class='{'outcome-failed' if r.moved else ''}'><td>{r.kind}</td><td>{html.escape(r.what)}</td>"
        f"<td>{html.escape(str(r.before))}</td><td>{html.escape(str(r.after))}</td><td>{html.escape(r.note)}</td></tr>"
        for r in result.report
    )
    floors = "".join(
        f"<li>{html.escape(f.explainer)} x {html.escape(f.model)}: {f.determinism}, spread {f.spread:.2g} "
        f"({', '.join(f.axes)}; {f.images} images)</li>"
        for f in result.floors.values()
    )
    header = "".join(f"<th class='sortable'>{h}</th>" for h in HEADERS)
    report_head = "".join(f"<th>{h}</th>" for h in REPORT_HEADERS)
    report_table = f"<h2>Report changes</h2><table><tr>{report_head}</tr>{report_rows}</table>" if report_rows else ""
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>xai-harness diff</title><style>{asset("viewer.css")}</style></head>
<body><header><h1>Explanation diff</h1>
<p id="run-line">A: {html.escape(result.a)} {html.escape(str(result.versions_a))}<br>
B: {html.escape(result.b)} {html.escape(str(result.versions_b))}</p></header>
<p><b>{html.escape(result.verdict_line())}</b></p>
<p class="note">{html.escape(result.left_out_line())}</p>
{f"<h2>Noise floors</h2><ul>{floors}</ul>" if floors else ""}
<h2>Moved cases ({len(result.moved)})</h2>
<p class="note">Overlays: {html.escape(NORMALISATION)}; the difference uses the diverging map.</p>
{"".join(cards) or "<p>None.</p>"}
<h2>Every case</h2><table><tr>{header}</tr>{rows}</table>
{report_table}
</body></html>
"""
    return write_atomic(out / "diff.html", page)


def _moved_cards(folder: Path, result: DiffResult, a: Run, b: Run) -> list[str]:
    """One card per moved case (the first ``MAX_PAGE_CASES``): before, after and difference overlays."""
    folder.mkdir(parents=True, exist_ok=True)
    lookup = _pixels_lookup(a, result)
    cards = []
    for i, c in enumerate(result.moved[:MAX_PAGE_CASES]):
        before, after = a.attribution(c.case), b.attribution(c.case)
        style = style_for(c.case.explainer, [before, after])
        px = lookup.pixels(c.case.image, a.maps[c.case].digest)
        files = [
            _overlay(folder, f"{i}-a", before, px, style),
            _overlay(folder, f"{i}-b", after, px, style),
            _overlay(folder, f"{i}-d", after - before, px, Style(signed=True)),
        ]
        cells = "".join(
            f'<div class="side"><div class="cell"><img src="overlays/{f}" alt="{t}"></div>{t}</div>'
            for f, t in zip(files, ("before (A)", "after (B)", "difference B - A"))
        )
        ch = c.change
        cards.append(
            f"<h3>{html.escape(c.case.label)}</h3><p class='note'>cosine {ch.cosine:.6f}, Spearman "
            f"{ch.spearman:.4f}, top-10% IoU {ch.iou:.3f}, rel L2 {ch.rel_l2:.3g}, target {c.target_a} -> "
            f"{c.target_b}; {html.escape('; '.join(c.reasons))} [{html.escape(c.tolerance.source)}]</p>"
            f'<div class="pair">{cells}</div>'
        )
    return cards
