"""Which package moved a case: each changed package applied alone on top of the base.

Given the moved cases of the full candidate set and, per package, the moved
cases of the base plus that package alone, a case is attributed to

* the one package whose solo run reproduces it;
* several packages, when more than one does so alone (each suffices);
* an interaction, when none does alone (only the combination moves it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .runs import CaseId

INTERACTION = "interaction"


@dataclass(frozen=True)
class Attribution:
    case: CaseId
    packages: tuple[str, ...]  # the pins that reproduce the move alone

    @property
    def verdict(self) -> str:
        if not self.packages:
            return f"{INTERACTION}: no single package reproduces it alone"
        if len(self.packages) == 1:
            return self.packages[0]
        return "each alone: " + ", ".join(self.packages)

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case.label, "packages": list(self.packages), "verdict": self.verdict}


def attribute(moved: set[CaseId], solo: dict[str, set[CaseId]]) -> list[Attribution]:
    """Attribute every case of ``moved`` (the full set's) from ``solo`` (pin -> cases it moves alone)."""
    return [Attribution(case, tuple(p for p, cases in sorted(solo.items()) if case in cases)) for case in sorted(moved)]


def summary_lines(attributions: list[Attribution]) -> list[str]:
    """One line per verdict: how many moved cases it explains, and which pairs."""
    by: dict[str, list[CaseId]] = {}
    for a in attributions:
        by.setdefault(a.verdict, []).append(a.case)
    out = []
    for verdict, cases in sorted(by.items()):
        pairs = sorted({f"{c.explainer} x {c.model}" for c in cases})
        out.append(f"attributed to {verdict}: {len(cases)} case(s) [{', '.join(pairs)}]")
    return out
