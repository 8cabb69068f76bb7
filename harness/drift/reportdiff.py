"""What report folders add to a diff: check outcomes, metric scores, aggregate ranks, consensus verdicts.

Read from the files a report folder holds (``summary.json`` cases,
``leaderboard.json`` results and aggregate, ``consensus.json`` verdicts);
a side without them contributes nothing here.  A metric score *moved* when
B's score falls outside A's bootstrap interval; without intervals the change
is listed but not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .runs import Run


@dataclass(frozen=True)
class ReportChange:
    """One report quantity before and after."""

    kind: str  # check | metric | rank | verdict
    what: str
    before: Any
    after: Any
    moved: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "what": self.what,
            "before": self.before,
            "after": self.after,
            "moved": self.moved,
            "note": self.note,
        }


def _checks(a: Run, b: Run) -> list[ReportChange]:
    sa, sb = a.report_file("summary.json"), b.report_file("summary.json")
    if not sa or not sb:
        return []
    before = {c["id"]: c.get("outcome") for c in sa.get("cases", [])}
    after = {c["id"]: c.get("outcome") for c in sb.get("cases", [])}
    return [
        ReportChange("check", cid, before[cid], after[cid], True, "outcome flipped")
        for cid in sorted(set(before) & set(after))
        if before[cid] != after[cid]
    ]


def _metrics(la: dict, lb: dict) -> list[ReportChange]:
    def key(r: dict) -> tuple[str, str, str]:
        return (r.get("explainer", ""), r.get("model", ""), r.get("metric", ""))

    after = {key(r): r for r in lb.get("results", [])}
    out = []
    for r in la.get("results", []):
        other = after.get(key(r))
        if other is None or r.get("score") is None or other.get("score") is None:
            continue
        what = f"{r['metric']}: {r['explainer']} x {r['model']}"
        interval = r.get("score_interval")
        if interval and None not in interval:
            lo, hi = interval
            moved = not (lo <= other["score"] <= hi)
            note = f"A's interval [{lo:.4g}, {hi:.4g}]"
        else:
            moved, note = False, "no bootstrap interval: not judged"
        if moved or other["score"] != r["score"]:
            out.append(ReportChange("metric", what, r["score"], other["score"], moved, note))
    return out


def _ranks(la: dict, lb: dict) -> list[ReportChange]:
    before = {x["explainer"]: x.get("rank_shown", x.get("rank")) for x in la.get("aggregate", [])}
    after = {x["explainer"]: x.get("rank_shown", x.get("rank")) for x in lb.get("aggregate", [])}
    return [
        ReportChange("rank", f"aggregate rank of {e}", before[e], after[e], True)
        for e in sorted(set(before) & set(after))
        if str(before[e]) != str(after[e])
    ]


def _verdicts(a: Run, b: Run) -> list[ReportChange]:
    ca, cb = a.report_file("consensus.json"), b.report_file("consensus.json")
    if not ca or not cb:
        return []

    def verdicts(doc: dict) -> dict[str, str]:
        return {
            f"{ex['slug']} [{m['metric']}]": m.get("verdict", "")
            for ex in doc.get("explainers", [])
            for m in ex.get("metrics", [])
        }

    before, after = verdicts(ca), verdicts(cb)
    return [
        ReportChange("verdict", k, before[k], after[k], True, "consensus verdict changed")
        for k in sorted(set(before) & set(after))
        if before[k] != after[k]
    ]


def diff_reports(a: Run, b: Run) -> list[ReportChange]:
    """Every report-level change between two report folders (empty for bare stores)."""
    out = _checks(a, b)
    la, lb = a.report_file("leaderboard.json"), b.report_file("leaderboard.json")
    if la and lb:
        out += _metrics(la, lb) + _ranks(la, lb)
    return out + _verdicts(a, b)
