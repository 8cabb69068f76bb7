"""Write ``reports/<run-id>/`` (summary.json, summary.md) and point ``latest`` at it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..store import library_versions
from .run_info import git_commit, machine_info
from .table import render_markdown

TOP1_HEADERS = ("model", "family", "weights", "correct", "labelled", "top-1", "foolbox top-1")
CASE_HEADERS = ("case", "outcome", "value", "seconds")


def top1_rows(top1: dict[str, dict[str, Any]]) -> list[list[object]]:
    return [
        [name, t["family"], t["weights"], t["correct"], t["labelled"], t["top1"],
         f"{t['foolbox_correct']}/{t['foolbox_total']}" if t["foolbox_total"] else "-"]
        for name, t in sorted(top1.items())
    ]


def write_report(
    reports_dir: Path, run_id: str, *, root: Path, cases: list[dict[str, Any]], top1: dict[str, dict[str, Any]],
    skipped_models: dict[str, str], bad_images: dict[str, str], settings: dict[str, Any],
    store_stats: dict[str, int],
) -> Path:
    """Write the run's files and return the run directory."""
    out = reports_dir / run_id
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "run_id": run_id, "commit": git_commit(root), "machine": machine_info(),
        "versions": library_versions(), "settings": settings, "store": store_stats,
        "top1": top1, "cases": cases, "skipped_models": skipped_models, "bad_images": bad_images,
    }
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str))
    os.replace(tmp, out / "summary.json")
    md = [f"# xai-harness run {run_id}", "", f"- commit: `{summary['commit']}`",
          f"- machine: {summary['machine']}", f"- versions: {summary['versions']}",
          f"- settings: {settings}", f"- store: {store_stats}", ""]
    if top1:
        md += ["## Top-1 on labelled images", "", render_markdown(TOP1_HEADERS, top1_rows(top1)), ""]
    if cases:
        rows = [[c["id"], c["outcome"], c.get("value"), c.get("seconds")] for c in cases]
        md += ["## Cases", "", render_markdown(CASE_HEADERS, rows), ""]
    if skipped_models:
        md += ["## Models skipped", ""] + [f"- {reason}" for reason in sorted(set(skipped_models.values()))] + [""]
    if bad_images:
        md += ["## Unreadable images", ""] + [f"- {msg}" for msg in bad_images.values()] + [""]
    (out / "summary.md").write_text("\n".join(md))
    _point_latest(reports_dir, run_id)
    return out


def _point_latest(reports_dir: Path, run_id: str) -> None:
    link = reports_dir / "latest"
    tmp = reports_dir / f".latest-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_id, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # file systems without symlinks: write the name instead
        (reports_dir / "LATEST").write_text(run_id + "\n")
