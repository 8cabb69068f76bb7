"""Diff two runs case by case: what moved beyond tolerance, and what each side lacks.

Per case (model x explainer x image): the map's cosine, Spearman, top-10 %
IoU and relative L2 distance (:mod:`harness.compare.change`), whether the
explained (top-1) class changed, and the tolerance it was judged by (the
pair's noise floor when measured, else the regression tolerances).  Report
folders add check outcomes, metric scores against their bootstrap intervals,
aggregate ranks and consensus verdicts (:mod:`harness.drift.reportdiff`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..checks.noise import NoiseFloor, Tolerance, default_tolerance
from ..compare.change import MapChange, map_change
from .reportdiff import ReportChange, diff_reports
from .runs import CaseId, Run


@dataclass
class CaseDiff:
    """One case compared."""

    case: CaseId
    change: MapChange
    target_a: int
    target_b: int
    tolerance: Tolerance
    reasons: list[str] = field(default_factory=list)

    @property
    def prediction_changed(self) -> bool:
        return self.target_a != self.target_b

    @property
    def moved(self) -> bool:
        return bool(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.case.model,
            "explainer": self.case.explainer,
            "image": self.case.image,
            "params": self.case.params,
            **self.change.to_dict(),
            "target_a": self.target_a,
            "target_b": self.target_b,
            "prediction_changed": self.prediction_changed,
            "moved": self.moved,
            "reasons": self.reasons,
            "tolerance": self.tolerance.source,
        }


@dataclass
class DiffResult:
    """Everything ``python -m harness diff`` reports."""

    a: str
    b: str
    cases: list[CaseDiff]
    report: list[ReportChange]
    only_a: list[CaseId]
    only_b: list[CaseId]
    floors: dict[tuple[str, str], NoiseFloor]
    versions_a: dict[str, str] = field(default_factory=dict)
    versions_b: dict[str, str] = field(default_factory=dict)

    @property
    def moved(self) -> list[CaseDiff]:
        return [c for c in self.cases if c.moved]

    @property
    def report_moved(self) -> list[ReportChange]:
        return [r for r in self.report if r.moved]

    @property
    def anything_moved(self) -> bool:
        return bool(self.moved or self.report_moved)

    def left_out_line(self) -> str:
        """What the intersection left out, per side, by explainer x model."""
        if not self.only_a and not self.only_b:
            return "selections match: every case is in both runs"

        def count(cases: list[CaseId]) -> str:
            by = Counter(f"{c.explainer} x {c.model}" for c in cases)
            return ", ".join(f"{k} ({n})" for k, n in sorted(by.items())) or "nothing"

        return (
            f"compared on the intersection ({len(self.cases)} cases); left out: "
            f"{len(self.only_a)} only in A [{count(self.only_a)}], {len(self.only_b)} only in B [{count(self.only_b)}]"
        )

    def verdict_line(self) -> str:
        moved = self.moved
        if not self.cases:
            return "drift: no case in both runs (nothing compared)"
        worst = min(self.cases, key=lambda c: c.change.cosine)
        preds = sum(c.prediction_changed for c in self.cases)
        head = (
            f"MOVED: {len(moved)}/{len(self.cases)} cases beyond tolerance"
            if moved
            else f"no drift: 0/{len(self.cases)} cases beyond tolerance"
        )
        extra = f", {len(self.report_moved)} report change(s)" if self.report_moved else ""
        return (
            f"{head}{extra}; min cosine {worst.change.cosine:.6f} ({worst.case.label}), "
            f"max rel L2 {max(c.change.rel_l2 for c in self.cases):.3g}, "
            f"min top-10% IoU {min(c.change.iou for c in self.cases):.3f}, "
            f"bit-identical {sum(c.change.identical for c in self.cases)}/{len(self.cases)}, "
            f"predictions changed {preds}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "versions_a": self.versions_a,
            "versions_b": self.versions_b,
            "verdict": self.verdict_line(),
            "moved": self.anything_moved,
            "left_out": self.left_out_line(),
            "only_a": [c.label for c in self.only_a],
            "only_b": [c.label for c in self.only_b],
            "noise_floors": [
                {
                    "model": f.model,
                    "explainer": f.explainer,
                    "determinism": f.determinism,
                    "spread": f.spread,
                    "axes": list(f.axes),
                }
                for f in self.floors.values()
            ],
            "cases": [c.to_dict() for c in self.cases],
            "report": [r.to_dict() for r in self.report],
        }


def diff_runs(a: Run, b: Run, *, floors: dict[tuple[str, str], NoiseFloor] | None = None) -> DiffResult:
    """Compare ``a`` (before) and ``b`` (after) on the cases both hold."""
    floors = floors or {}
    common = sorted(set(a.maps) & set(b.maps))
    cases = []
    for case in common:
        ref_a, ref_b = a.maps[case], b.maps[case]
        floor = floors.get(case.pair)
        tol = floor.tolerance() if floor is not None else default_tolerance(case.explainer)
        change = map_change(a.attribution(case), b.attribution(case))
        reasons = tol.broken(change)
        if ref_a.target != ref_b.target:
            reasons.insert(0, f"prediction {ref_a.target} -> {ref_b.target}")
        cases.append(CaseDiff(case, change, ref_a.target, ref_b.target, tol, reasons))
    return DiffResult(
        a=a.name,
        b=b.name,
        cases=cases,
        report=diff_reports(a, b),
        only_a=sorted(set(a.maps) - set(b.maps)),
        only_b=sorted(set(b.maps) - set(a.maps)),
        floors=floors,
        versions_a=a.versions,
        versions_b=b.versions,
    )
