"""Ground-truth tables from a run's ``summary.json``: oracles, interventions, masks against interventions.

Rendering only: the numbers are the case records of ``suites/test_oracle.py`` and
``suites/test_interventions.py``.  Every run whose selection has such cases gets
``ground-truth.md`` beside ``summary.md`` (:func:`write_ground_truth`, linked from the index);
``python -m harness.cli.ground_truth reports/latest/summary.json`` prints the same tables.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..checks.mask_scope import scope_from_usage
from ..core.atomic import write_atomic
from ..zoo.effects import N_EVAL
from .table import render_markdown

PREFIXES = ("check_oracle_", "check_intervention_")  # the cases these tables read

SCORES = ("ranking", "single_deletion", "background", "distractors")
OUTCOME_MARK = {"passed": "", "xfailed": " (xfail)", "failed": " (FAIL)", "skipped": " (n/a)", "xpassed": " (XPASS)"}


def _cases(summary: dict, prefix: str) -> list[dict]:
    return [c for c in summary.get("cases", []) if str(c.get("check", "")).startswith(prefix)]


def _num(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def oracle_table(summary: dict) -> str:
    """One row per oracle case: the check's headline number and its outcome."""
    rows = []
    for c in sorted(_cases(summary, "check_oracle_"), key=lambda c: (c["model"], c["check"], c["explainer"])):
        v = c.get("value") or {}
        head = next((k for k in ("rel_error", "share", "max_abs_error", "mean_a", "top") if k in v), None)
        shown = f"{head} {_num(v[head])}" if head else str(v.get("failure", "")).split(" [")[0]
        if "mean_b" in v:
            shown += f", mean_b {_num(v['mean_b'])}"
        shown = shown.replace("|", "&#124;")  # a failure message's |attr| would split the Markdown cell
        rows.append(
            [
                c["model"],
                c["check"].removeprefix("check_oracle_"),
                c["explainer"],
                shown + OUTCOME_MARK.get(c["outcome"], ""),
            ]
        )
    return render_markdown(["model", "check", "explainer", "measured"], rows)


def intervention_table(summary: dict) -> str:
    """FunnyBirds' shape: explainer x model rows, one column per score: value (control) [interval of the difference].

    ``contrastivity`` is ``check_target_respected``'s value where the summary holds it: the smallest relative
    L2 change of the map when the second-ranked class is explained instead (FunnyBirds' target sensitivity)."""
    by_pair: dict[tuple[str, str], dict[str, dict]] = {}
    for c in _cases(summary, "check_intervention_"):
        if c["explainer"] == "interventions":
            continue
        by_pair.setdefault((c["explainer"], c["model"]), {})[c["check"].removeprefix("check_intervention_")] = c
    contrast = {
        (c["explainer"], c["model"]): c.get("value")
        for c in summary.get("cases", [])
        if c.get("check") == "check_target_respected"
    }
    rows = []
    for (explainer, model), cases in sorted(by_pair.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        row: list[object] = [explainer, model]
        for score in SCORES:
            case = cases.get(score) or {}
            v = case.get("value") or {}
            if not v or v.get("value") is None:
                row.append("n/a")
                continue
            lo, hi = v.get("diff_ci") or [None, None]
            cell = f"{_num(v['value'])} ({_num(v['control'])}) [{_num(lo)}, {_num(hi)}]"
            if v.get("inflation") is not None:
                cell += f" {v['inflation']:+.3f}"
            row.append(cell + OUTCOME_MARK.get(case["outcome"], ""))
        second = contrast.get((explainer, model))
        row.append(_num(second) if isinstance(second, float) else "-")
        rows.append(row)
    return render_markdown(["explainer", "model", *SCORES, "contrastivity"], rows)


def usage_table(summary: dict) -> str:
    """Per model: share of images where each element's intervention is important; the verdict."""
    rows = []
    for c in sorted(_cases(summary, "check_intervention_usage"), key=lambda c: c["model"]):
        v = c.get("value") or {}
        agree = "agree" if c["outcome"] == "passed" else "DISAGREE"
        rows.append(
            [c["model"], *(_num(v.get(k)) for k in ("object", "colour", "texture", "background", "distractors")), agree]
        )
    return render_markdown(
        ["model", "object", "colour", "texture", "background", "distractors", "masks vs interventions"], rows
    )


VERDICTS = {
    "mask": "explainer misses what the model uses",
    "object_found": "model also uses the background or a distractor: judged on finding the object",
    "unjudged": "model does not use the object: not judged",
}


def _scope(usage: dict | None):
    if not usage:
        return None
    return scope_from_usage({"distractors": float("nan"), **usage}, int(usage.get("n_images") or N_EVAL))


def localisation_revisit(summary: dict, known: dict) -> str:
    """Each ``check_localisation`` entry of the known-failure table beside its model's intervention usage and
    the judgement the check applies to it (:mod:`harness.checks.mask_scope`)."""
    usage = {c["model"]: c.get("value") or {} for c in _cases(summary, "check_intervention_usage")}
    rows = []
    for explainer, model, check in known:
        if check != "check_localisation":
            continue
        u = usage.get(model, {})
        scope = _scope(u)
        verdict = VERDICTS[scope.judgement] if scope else "no intervention usage in this run"
        rows.append([explainer, model, _num(u.get("object")), _num(u.get("background")), verdict])
    return render_markdown(["explainer", "model", "object used", "background used", "verdict"], rows)


def relaxed_table(summary: dict) -> str:
    """The ``check_localisation`` cases judged otherwise than by the mask: their scores, what the mask
    judgement (mass above random) would have said, and the outcome under the judgement applied."""
    rows = []
    cases = [c for c in summary.get("cases", []) if c.get("check") == "check_localisation"]
    for c in sorted(cases, key=lambda c: (c["model"], c["explainer"])):
        v = c.get("value") or {}
        if not isinstance(v, dict) or v.get("judgement", "mask") == "mask":
            continue
        mass_ok = v["relevance_mass"] > v["relevance_mass_random"]
        rows.append(
            [
                c["explainer"],
                c["model"],
                f"{_num(v['relevance_mass'])} ({_num(v['relevance_mass_random'])})",
                f"{_num(v['pointing_game'])} ({_num(v['pointing_game_random'])})",
                "pass" if mass_ok else "fail",
                f"{v['judgement']}: {c['outcome']}",
            ]
        )
    return render_markdown(
        ["explainer", "model", "mass (random)", "pointing game (random)", "mask judgement", "judgement applied"], rows
    )


def render_all(summary: dict, known: dict) -> str:
    """Every table, with its title, as Markdown."""
    parts = []
    for title, table in (
        ("Oracles", oracle_table(summary)),
        (
            "Interventions: score (random control) [95 % interval of the difference] threshold inflation",
            intervention_table(summary),
        ),
        ("Masks against interventions", usage_table(summary)),
        ("Localisation entries revisited", localisation_revisit(summary, known)),
        ("Localisation judged on finding the object", relaxed_table(summary)),
    ):
        parts.append(f"### {title}\n\n{table}\n")
    return "\n".join(parts)


def write_ground_truth(out: Path, known: dict) -> bool:
    """``out/ground-truth.md`` from ``out/summary.json``; False (nothing written) without oracle or
    intervention cases in the run.  ``known`` is the known-failure table the localisation entries
    are revisited against."""
    summary = json.loads((out / "summary.json").read_text())
    if not any(str(c.get("check", "")).startswith(PREFIXES) for c in summary.get("cases", [])):
        return False
    title = f"# Ground truth of what the models use: run {summary.get('run_id', out.name)}\n\n"
    intro = (
        "Wired oracle models and interventions on the `shapes` world, against the object masks. "
        "How to read the tables: docs/ground-truth.md.\n\n"
    )
    write_atomic(out / "ground-truth.md", title + intro + render_all(summary, known))
    return True
