"""Write ``reports/<run-id>/`` and point ``reports/latest`` at it.

``summary.json``/``summary.md`` (cases, top-1, skipped models) and
``properties.md``/``properties.json`` (property-check tables) when the run
came from pytest; always ``consensus.json``, ``consensus/`` (CSVs, heatmaps,
dendrograms), ``index.md`` and ``index.html``, rebuilt from the store.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..compute.store import Store, library_versions
from ..core.atomic import write_atomic, write_json
from ..core.provenance import git_commit, machine_info
from .collect import collect_groups, restrict_images
from .concepts import write_concepts
from .consensus import ConsensusOptions, write_consensus
from .ground_truth import write_ground_truth
from .index import write_index
from .leaderboard import write_leaderboard
from .properties import registry_family, write_properties
from .records import CaseRecord, Top1Row
from .table import render_markdown

T = TypeVar("T")

TOP1_HEADERS = ("model", "family", "weights", "correct", "labelled", "top-1", "foolbox top-1")
CASE_HEADERS = ("case", "outcome", "value", "seconds")


def top1_rows(top1: dict[str, Top1Row]) -> list[list[object]]:
    return [
        [
            name,
            t.family,
            t.weights,
            t.correct,
            t.labelled,
            t.top1,
            f"{t.foolbox_correct}/{t.foolbox_total}" if t.foolbox_total else "-",
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


class ReportPartWarning(UserWarning):
    """A part of the report failed; the rest of the report was still written."""


@dataclass
class ReportParts:
    """Runs each part of a report on its own: one that fails is named in one warning, the others still run.

    ``notes`` collects one line per part that had nothing to show or failed, for the terminal summary.
    """

    notes: list[str] = field(default_factory=list)

    def run(self, name: str, build: Callable[[], T], *, empty: Callable[[T], str | None] | None = None) -> T | None:
        """``build()``; a part whose ``empty(result)`` gives a reason is noted as empty (one line), not raised."""
        try:
            result = build()
        except Exception as exc:  # a report part never takes the run's outcome with it
            message = f"report: {name} left out: {type(exc).__name__}: {exc}"
            warnings.warn(ReportPartWarning(message), stacklevel=2)
            self.notes.append(message)
            return None
        reason = empty(result) if empty is not None else None
        if reason:
            self.notes.append(f"report: {name}: {reason}")
        return result


def _session_pages(
    parts: ReportParts, out: Path, info: dict[str, Any], session: dict[str, Any], known: dict | None
) -> dict[str, bool]:
    """The pages only a pytest session has (summary, properties, concepts, ground truth): which were written."""

    def summary_part() -> bool:
        write_summary(out, info, **session)
        return True

    pages = {"summary": bool(parts.run("summary", summary_part))}
    pages["properties"] = bool(
        parts.run("properties", lambda: write_properties(out, session["cases"], family_of=registry_family))
    )
    parts.run("concepts", lambda: write_concepts(out, session["cases"]))
    pages["ground truth"] = pages["summary"] and bool(
        parts.run("ground truth", lambda: write_ground_truth(out, known or {}))
    )
    return pages


def _consensus_part(
    parts: ReportParts,
    out: Path,
    store: Store,
    cases_filter: set[tuple[str, str]] | None,
    image_subsets: dict[str, tuple[str, ...]] | None,
    consensus_options: ConsensusOptions | None,
) -> dict[str, Any]:
    """Consensus between architectures, per explainer (empty when fewer than two models share images)."""

    def build() -> dict[str, Any]:
        groups = collect_groups(store, cases=cases_filter)
        if image_subsets:
            groups = restrict_images(groups, image_subsets)
        return write_consensus(groups, out, consensus_options, store=store)

    return parts.run(
        "consensus",
        build,
        empty=lambda c: (
            None
            if c.get("explainers")
            else "nothing to compare (needs two or more models with maps of the same images)"
        ),
    ) or {"explainers": []}


def _leaderboard_part(
    parts: ReportParts,
    out: Path,
    store: Store,
    cases_filter: set[tuple[str, str]] | None,
    consensus_options: ConsensusOptions | None,
) -> dict[str, Any] | None:
    """The metric leaderboard, with the consensus options' bootstrap; None without metric results."""
    boot = (consensus_options or ConsensusOptions()).bootstrap()
    return parts.run(
        "leaderboard",
        lambda: write_leaderboard(out, store, cases=cases_filter, bootstrap=boot),
        empty=lambda b: (
            "no metric results in this selection"
            if b is None
            else None
            if b.get("aggregate")
            else "no aggregate rank (needs two or more explainers scored on the same model); scores in leaderboard.md"
        ),
    )


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
    notes: list[str] | None = None,
    known: dict | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write the whole run directory; ``session`` holds pytest results when there are some.

    ``image_subsets`` (label space -> image ids) limits the consensus of that
    label space to those images (:func:`~harness.report.collect.restrict_images`).
    Each part (summary, properties, concepts, consensus, leaderboard, index)
    is built on its own (:class:`ReportParts`): a part with nothing to show
    for this selection is left out with one line in ``notes``, and a part
    that fails is named in one :class:`ReportPartWarning` while the rest of
    the report is still written.
    """
    out = reports_dir / run_id
    out.mkdir(parents=True, exist_ok=True)
    parts = ReportParts()
    info = run_info(run_id, root, settings)
    pages = _session_pages(parts, out, info, session, known) if session is not None else {}

    consensus = _consensus_part(parts, out, store, cases_filter, image_subsets, consensus_options)
    board = _leaderboard_part(parts, out, store, cases_filter, consensus_options)
    parts.run(
        "index",
        lambda: write_index(
            out,
            {
                **info,
                "has_summary": pages.get("summary", False),
                "has_leaderboard": board is not None,
                "has_properties": pages.get("properties", False),
                "has_ground_truth": pages.get("ground truth", False),
            },
            consensus,
            store=store,
            cases=cases_filter,
            notes=parts.notes,
        ),
    )
    _point_latest(reports_dir, run_id)
    if notes is not None:
        notes.extend(parts.notes)
    return out, consensus


def write_summary(
    out: Path,
    info: dict[str, Any],
    *,
    cases: list[CaseRecord],
    top1: dict[str, Top1Row],
    skipped_models: dict[str, str],
    bad_images: dict[str, str],
    store_stats: dict[str, int],
) -> None:
    """summary.json and summary.md: what pytest ran and measured."""
    settings, run_id = info["settings"], info["run_id"]
    summary = {
        **info,
        "store": store_stats,
        "top1": {m: row.to_dict() for m, row in top1.items()},
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
    write_atomic(out / "summary.md", "\n".join(md))


def _point_latest(reports_dir: Path, run_id: str) -> None:
    link = reports_dir / "latest"
    tmp = reports_dir / f".latest-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_id, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # file systems without symlinks: write the name instead
        write_atomic(reports_dir / "LATEST", run_id + "\n")


def memory_lines(cases: list[Any]) -> list[str]:
    """One line: the run's peak resident set and the first case that reached it (from ``peak_rss_mb``).

    The high-water mark only rises, so the first case that shows the peak is the one during which
    the memory was needed (work done before the first case, such as a precompute, shows in the first).
    """
    seen = [(c.peak_rss_mb, c.id) for c in cases if c.peak_rss_mb is not None]
    if not seen:
        return []
    peak = max(mb for mb, _ in seen)
    first = next(case for mb, case in seen if mb == peak)
    return [
        f"memory: peak resident set {peak / 1024:.2f} GiB (high-water mark of a test process), "
        f"first reached during {first}"
    ]
