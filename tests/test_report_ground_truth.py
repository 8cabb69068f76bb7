"""The ground-truth tables render from a summary's case records."""

from pathlib import Path

from harness.cli.ground_truth import main
from harness.report.ground_truth import (
    intervention_table,
    localisation_revisit,
    oracle_table,
    relaxed_table,
    render_all,
    usage_table,
)


def _case(check, model, explainer, value, outcome="passed"):
    return {"check": check, "model": model, "explainer": explainer, "value": value, "outcome": outcome}


SUMMARY = {
    "cases": [
        _case("check_oracle_exact", "oracle_linear", "ig", {"rel_error": 1e-7}),
        _case(
            "check_oracle_region", "oracle_vit", "rollout", {"failure": "share of |attr| 0.615 < 0.95 [x]"}, "xfailed"
        ),
        _case(
            "check_intervention_ranking",
            "zoo_a",
            "gradcam",
            {"value": 0.5, "control": 0.1, "diff_ci": [0.2, 0.6], "inflation": None},
        ),
        _case(
            "check_intervention_background",
            "zoo_a",
            "gradcam",
            {"value": 1.0, "control": 0.0, "diff_ci": [1.0, 1.0], "inflation": -0.25},
        ),
        _case("check_intervention_usage", "zoo_a", "interventions", {"object": 1.0, "background": 0.0}),
        _case("check_target_respected", "zoo_a", "gradcam", 0.42),
        _case("check_intervention_usage", "zoo_b", "interventions", {"object": 1.0, "background": 0.8}, "xfailed"),
    ]
}


def test_tables_show_values_controls_intervals_and_verdicts():
    oracle = oracle_table(SUMMARY)
    assert "rel_error 0.000" in oracle and "&#124;attr&#124; 0.615 < 0.95 (xfail)" in oracle
    iv = intervention_table(SUMMARY)
    row = "| gradcam | zoo_a | 0.500 (0.100) [0.200, 0.600] | n/a | 1.000 (0.000) [1.000, 1.000] -0.250 | n/a | 0.420 |"
    assert row in iv
    usage = usage_table(SUMMARY)
    assert "| zoo_a | 1.000 | - | - | 0.000 | - | agree |" in usage and "DISAGREE" in usage
    known = {("gradcam", "zoo_a", "check_localisation"): "r", ("cam", "zoo_b", "check_localisation"): "r"}
    revisit = localisation_revisit(SUMMARY, known)
    assert "| gradcam | zoo_a | 1.000 | 0.000 | explainer misses what the model uses |" in revisit
    assert "| cam | zoo_b | 1.000 | 0.800 | model also uses the background or a distractor: judged on" in revisit


def test_cases_judged_on_finding_the_object_are_listed_with_the_mask_verdict():
    value = {
        "relevance_mass": 0.069,
        "relevance_mass_random": 0.0692,
        "pointing_game": 0.125,
        "pointing_game_random": 0.0,
        "judgement": "object_found",
    }
    cases = [
        _case("check_localisation", "zoo_b", "gradcam_d50", value),
        _case("check_localisation", "zoo_a", "gradcam", {**value, "judgement": "mask", "relevance_mass": 0.3}),
    ]
    table = relaxed_table({"cases": cases})
    assert "| gradcam_d50 | zoo_b | 0.069 (0.069) | 0.125 (0.000) | fail | object_found: passed |" in table
    assert "zoo_a" not in table


def test_docs_hold_each_table_once():
    """docs/ground-truth.md pastes render_all's tables under one heading each (a re-measure replaces them)."""
    doc = (Path(__file__).parents[1] / "docs" / "ground-truth.md").read_text()
    page = render_all({"cases": []}, {}).splitlines()
    titles = [line.removeprefix("### ") for line in page if line.startswith("### ")]
    assert titles
    for title in titles:
        assert doc.count(f"#### {title}\n") == 1, title


def test_cli_names_a_missing_summary(tmp_path, capsys):
    assert main([str(tmp_path / "none.json")]) == 2
    assert "no summary at" in capsys.readouterr().err


def test_a_run_with_ground_truth_cases_gets_the_page_and_others_do_not(tmp_path):
    import json

    from harness.report.ground_truth import write_ground_truth

    with_cases, without = tmp_path / "a", tmp_path / "b"
    for out, cases in ((with_cases, SUMMARY["cases"]), (without, [SUMMARY["cases"][5]])):
        out.mkdir()
        (out / "summary.json").write_text(json.dumps({"run_id": out.name, "cases": cases}))
    known = {("gradcam", "zoo_a", "check_localisation"): "r"}
    assert write_ground_truth(with_cases, known) is True
    page = (with_cases / "ground-truth.md").read_text()
    assert "# Ground truth of what the models use: run a" in page
    assert usage_table(SUMMARY) in page and oracle_table(SUMMARY) in page
    assert write_ground_truth(without, known) is False and not (without / "ground-truth.md").exists()


def test_the_report_links_the_page_when_the_run_has_it():
    from harness.report.index import _sections

    assert "[ground-truth.md](ground-truth.md)" in str(_sections({"has_ground_truth": True}, {"explainers": []}))
    assert "ground-truth.md" not in str(_sections({}, {"explainers": []}))
