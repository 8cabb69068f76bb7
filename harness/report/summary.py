"""Write ``reports/<run-id>/`` and point ``reports/latest`` at it.

``summary.json``/``summary.md`` (cases, top-1, skipped models) and
``properties.md``/``properties.json`` (property-check tables) when the run
came from pytest; always ``consensus.json``, ``consensus/`` (CSVs, heatmaps,
dendrograms), ``index.md`` and ``index.html``, rebuilt from the store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..atomic import write_json
from ..provenance import git_commit, machine_info
from ..store import Store, library_versions
from .collect import collect_groups, restrict_images
from .concepts import write_concepts
from .consensus import ConsensusOptions, write_consensus
from .index import write_index
from .properties import registry_family, write_properties
from .records import CaseRecord
from .table import render_markdown

TOP1_HEADERS = ("model", "family", "weights", "correct", "labelled", "top-1", "foolbox top-1")
CASE_HEADERS = ("case", "outcome", "value", "seconds")


def top1_rows(top1: dict[str, dict[str, Any]]) -> list[list[object]]:
    return [
        [
            name,
            t["family"],
            t["weights"],
            t["correct"],
            t["labelled"],
            t["top1"],
            f"{t['foolbox_correct']}/{t['foolbox_total']}" if t["foolbox_total"] else "-",
        ]
        for name, t in sorted(top1.items())
    ]


def run_info(run_id: str, root: Path, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "commit": git_commit(root),
        "machine": machine_info(),
        "versions": library_versions(),
        "settings": settings,
    }


def build_report(
    reports_dir: Path,
    run_id: str,
    *,
    root: Path,
    store: Store,
    settings: dict[str, Any],
    cases_filter: set[tuple[str, str]] | None = None,
    consensus_options: ConsensusOptions | None = None,
    session: dict[str, Any] | None = None,
    image_subsets: dict[str, tuple[str, ...]] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write the whole run directory; ``session`` holds pytest results when there are some.

    ``image_subsets`` (label space -> image ids) limits the consensus of that
    label space to those images (:func:`~harness.report.collect.restrict_images`).
    """
    out = reports_dir / run_id
    out.mkdir(parents=True, exist_ok=True)
    info = run_info(run_id, root, settings)
    has_properties = False
    if session is not None:
        write_summary(out, info, **session)
        has_properties = write_properties(out, session["cases"], family_of=registry_family)
        write_concepts(out, session["cases"])  # concepts.md/json when the run had dissect or bias cases
    groups = collect_groups(store, cases=cases_filter)
    if image_subsets:
        groups = restrict_images(groups, image_subsets)
    consensus = write_consensus(groups, out, consensus_options)
    from .leaderboard import write_leaderboard

    boot = (consensus_options or ConsensusOptions()).bootstrap()
    has_leaderboard = write_leaderboard(out, store, cases=cases_filter, bootstrap=boot) is not None
    write_index(
        out,
        {
            **info,
            "has_summary": session is not None,
            "has_leaderboard": has_leaderboard,
            "has_properties": has_properties,
        },
        consensus,
        store=store,
        cases=cases_filter,
    )
    _point_latest(reports_dir, run_id)
    return out, consensus


def write_summary(
    out: Path,
    info: dict[str, Any],
    *,
    cases: list[CaseRecord],
    top1: dict[str, dict[str, Any]],
    skipped_models: dict[str, str],
    bad_images: dict[str, str],
    store_stats: dict[str, int],
) -> None:
    """summary.json and summary.md: what pytest ran and measured."""
    settings, run_id = info["settings"], info["run_id"]
    summary = {
        **info,
        "store": store_stats,
        "top1": top1,
        "cases": [c.to_dict() for c in cases],
        "skipped_models": skipped_models,
        "bad_images": bad_images,
    }
    write_json(out / "summary.json", summary)
    md = [
        f"# xai-harness run {run_id}: cases",
        "",
        f"- commit: `{summary['commit']}`",
        f"- machine: {summary['machine']}",
        f"- versions: {summary['versions']}",
        f"- settings: {settings}",
        f"- store: {store_stats}",
        "",
    ]
    if top1:
        md += ["## Top-1 on labelled images", "", render_markdown(TOP1_HEADERS, top1_rows(top1)), ""]
    if cases:
        rows = [[c.id, c.outcome, c.value, c.seconds] for c in cases]
        md += ["## Cases", "", render_markdown(CASE_HEADERS, rows), ""]
    if skipped_models:
        md += ["## Models skipped", ""] + [f"- {reason}" for reason in sorted(set(skipped_models.values()))] + [""]
    if bad_images:
        md += ["## Unreadable images", ""] + [f"- {msg}" for msg in bad_images.values()] + [""]
    (out / "summary.md").write_text("\n".join(md))


def _point_latest(reports_dir: Path, run_id: str) -> None:
    link = reports_dir / "latest"
    tmp = reports_dir / f".latest-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_id, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # file systems without symlinks: write the name instead
        (reports_dir / "LATEST").write_text(run_id + "\n")
