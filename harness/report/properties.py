"""``properties.md`` and ``properties.json``: the property suite's values as tables.

Built from the run's case records (one :class:`~harness.report.records.CaseRecord` per
case, with the ``outcome`` the plugin adds), keyed by ``check``:

* completeness: ``check_completeness`` (fixed example),
  ``check_completeness_hypothesis`` and ``check_convergence_completeness``;
* conservation: ``check_conservation``, one row per model and cut (CNN
  depth cuts or ViT block outputs, then tokens and pixels);
* grid artefacts: ``check_grid_artefact``, sorted by score, with the family;
  ``check_grid_separation`` and ``check_grid_control`` as notes;
* resolution: ``check_resolution``, expected vs measured grid per depth;
* sanity: ``check_randomisation_sanity`` similarity curves.

Records of other checks are ignored; a record whose value is not of the
expected shape (a failed case records a string) gets a row with blanks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.atomic import write_atomic, write_json
from ..models import get_model_cfg
from ..models.registry import UnknownModelError
from .records import CaseRecord
from .table import render_markdown

Row = dict[str, Any]


def _value(case: CaseRecord) -> dict[str, Any]:
    return case.value if isinstance(case.value, dict) else {}


def _base(case: CaseRecord) -> Row:
    return {"model": case.label, "explainer": case.explainer, "outcome": case.outcome}


def completeness_rows(cases: list[CaseRecord]) -> list[Row]:
    kinds = {"check_completeness": "fixed", "check_completeness_hypothesis": "hypothesis"}
    rows = []
    for c in cases:
        if c.check in kinds:
            v = _value(c)
            rows.append(
                {
                    **_base(c),
                    "kind": kinds[c.check],
                    "examples": v.get("examples", v.get("images")),
                    "n_steps": v.get("n_steps"),
                    "max_rel_error": v.get("max_rel_error"),
                    "max_abs_error": v.get("max_abs_error"),
                    "min_abs_gap": v.get("min_abs_gap"),
                    "rtol": v.get("rtol"),
                    "atol": v.get("atol"),
                }
            )
    return sorted(rows, key=lambda r: (r["kind"], -(r["max_rel_error"] or 0.0)))


def convergence_rows(cases: list[CaseRecord]) -> list[Row]:
    rows = []
    for c in cases:
        if c.check == "check_convergence_completeness":
            rows.append({**_base(c), **{k: v for k, v in _value(c).items() if k.startswith("n_steps=")}})
    return rows


def conservation_rows(cases: list[CaseRecord]) -> list[Row]:
    """One row per (model, explainer, cut): the asserted gap and, where measured, the leaks."""
    rows = []
    for c in cases:
        if c.check != "check_conservation":
            continue
        v = _value(c)
        if "zero_bias" in v:  # ViT: CP rules, biases zeroed / kept, AttnLRP
            for cut, gap in v["zero_bias"].items():
                rows.append(
                    {
                        **_base(c),
                        "cut": cut,
                        "conservative_gap": gap,
                        "rtol": v.get("rtol"),
                        "bias_kept_leak": v.get("bias_kept", {}).get(cut),
                        "attnlrp_leak": v.get("attnlrp", {}).get(cut),
                    }
                )
        else:  # CNN: zennit composite, biases zeroed; the kept-bias leak at the pixels only
            for cut, gap in v.items():
                if cut not in ("bias_leak_input", "rtol"):
                    rows.append(
                        {
                            **_base(c),
                            "cut": cut,
                            "conservative_gap": gap,
                            "rtol": v.get("rtol"),
                            "bias_kept_leak": v.get("bias_leak_input") if cut == "input" else None,
                            "attnlrp_leak": None,
                        }
                    )
    return rows


def grid_rows(cases: list[CaseRecord], family_of: Callable[[str], str] | None = None) -> list[Row]:
    rows = []
    for c in cases:
        if c.check == "check_grid_artefact":
            v, base = _value(c), _base(c)
            family = v.get("family") or (family_of(c.model) if family_of else None) or "?"
            rows.append(
                {
                    **base,
                    "family": family,
                    "uniform_patch": v.get("uniform_patch"),
                    "period": v.get("period"),
                    "grid_score": v.get("grid_score"),
                }
            )
    return sorted(rows, key=lambda r: -(r["grid_score"] if isinstance(r["grid_score"], (int, float)) else -1e9))


def resolution_rows(cases: list[CaseRecord]) -> list[Row]:
    rows = []
    for c in cases:
        if c.check != "check_resolution":
            continue
        v = _value(c)
        measured, expected = v.get("measured", v if "expected" not in v else {}), v.get("expected", {})
        for depth in sorted(set(measured) | set(expected), key=lambda d: int(str(d).rstrip("%"))):
            m, e = measured.get(depth), expected.get(depth)
            rows.append(
                {
                    **_base(c),
                    "depth": depth,
                    "expected": _grid(e),
                    "measured": _grid(m),
                    "match": None if m is None or e is None else list(m) == list(e),
                }
            )
    return rows


def sanity_rows(cases: list[CaseRecord]) -> list[Row]:
    return [{**_base(c), **_value(c)} for c in cases if c.check == "check_randomisation_sanity"]


def _grid(hw) -> str | None:
    return None if hw is None else "x".join(str(int(s)) for s in hw)


def _notes(cases: list[CaseRecord]) -> list[str]:
    out = []
    for c in cases:
        if c.check in ("check_grid_separation", "check_grid_control"):
            out.append(f"- {c.check} ({c.id}): {c.outcome}; {c.value}")
    return out


def property_tables(cases: list[CaseRecord], family_of: Callable[[str], str] | None = None) -> dict[str, list[Row]]:
    """Section name -> rows; empty sections are kept (as empty lists)."""
    return {
        "completeness": completeness_rows(cases),
        "convergence": convergence_rows(cases),
        "conservation": conservation_rows(cases),
        "grid": grid_rows(cases, family_of),
        "resolution": resolution_rows(cases),
        "sanity": sanity_rows(cases),
    }


TITLES = {
    "completeness": "IG completeness: |sum(attr) - (f(x) - f(x0))| / |f(x) - f(x0)|, worst over examples",
    "convergence": "IG completeness error (relative) along n_steps",
    "conservation": "LRP conservation: |relevance sum - logit| / |logit| per cut (biases zeroed, asserted); "
    "leaks with biases kept and of the default AttnLRP rules, signed, not asserted",
    "grid": "Grid-artefact score per model (highest first)",
    "resolution": "Grad-CAM native resolution per depth: expected (config) vs measured",
    "sanity": "Cascading randomisation: Spearman similarity to the original map per stage",
}


def write_properties(out: Path, cases: list[CaseRecord], family_of: Callable[[str], str] | None = None) -> bool:
    """Write ``properties.json`` and ``properties.md`` when any property case is present; returns whether."""
    tables = property_tables(cases, family_of)
    notes = _notes(cases)
    if not any(tables.values()) and not notes:
        return False
    write_json(out / "properties.json", {"tables": tables, "notes": notes})
    md = ["# Property checks", ""]
    for name, rows in tables.items():
        if not rows:
            continue
        headers = list(dict.fromkeys(k for r in rows for k in r))
        md += [
            f"## {name}",
            "",
            TITLES[name],
            "",
            render_markdown(headers, [[r.get(h) for h in headers] for r in rows]),
            "",
        ]
    if notes:
        md += ["## notes", ""] + notes + [""]
    write_atomic(out / "properties.md", "\n".join(md))
    return True


def registry_family(label: str) -> str:
    """Family from the model registry, for records that do not carry it (``?`` when unknown)."""

    try:
        return get_model_cfg(label.removesuffix("_random")).family
    except UnknownModelError:  # a synthetic control, a removed model
        return "?"
