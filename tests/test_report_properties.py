"""properties.md / properties.json from fabricated property-case records (no models run)."""

import json

from harness.compute.store import Store
from harness.report.properties import property_tables, registry_family, write_properties
from harness.report.records import CaseRecord
from harness.report.summary import build_report

CASES = [
    {
        "id": "ig-m1-check_completeness",
        "model": "m1",
        "explainer": "ig",
        "check": "check_completeness",
        "outcome": "passed",
        "value": {
            "images": 1,
            "n_steps": 256,
            "max_rel_error": 0.002,
            "max_abs_error": 0.01,
            "min_abs_gap": 5.0,
            "rtol": 0.05,
            "atol": 0.01,
        },
    },
    {
        "id": "ig-m2-check_completeness_hypothesis",
        "model": "m2",
        "explainer": "ig",
        "check": "check_completeness_hypothesis",
        "outcome": "xfailed",
        "value": {"examples": 2, "n_steps": 256, "max_rel_error": 0.128, "max_abs_error": 0.1, "min_abs_gap": 0.8},
    },
    {
        "id": "ig-m1-check_convergence_completeness",
        "model": "m1",
        "explainer": "ig",
        "check": "check_convergence_completeness",
        "outcome": "passed",
        "value": {"n_steps=16": 0.3, "n_steps=64": 0.02, "n_steps=256": 0.001},
    },
    {
        "id": "lrp_zennit-cnn1-check_conservation",
        "model": "cnn1",
        "explainer": "lrp_zennit_epsilon_plus_flat",
        "check": "check_conservation",
        "outcome": "passed",
        "value": {
            "100%": 0.0,
            "75%": 0.01,
            "50%": 0.02,
            "25%": 0.028,
            "input": 0.03,
            "bias_leak_input": 0.4,
            "rtol": 0.05,
        },
    },
    {
        "id": "lrp_vit_cp-vit1-check_conservation",
        "model": "vit1",
        "explainer": "lrp_vit_cp",
        "check": "check_conservation",
        "outcome": "passed",
        "value": {
            "zero_bias": {"blocks.1": 1e-7, "blocks.0": 2e-7, "tokens": 3e-7, "input": 4e-7},
            "bias_kept": {"blocks.1": -0.02, "blocks.0": -0.17, "tokens": -0.9, "input": -1.4},
            "attnlrp": {"blocks.1": -0.02, "blocks.0": -0.7, "tokens": -1.1, "input": -1.3},
            "rtol": 0.001,
        },
    },
    {
        "id": "ig-zoo_resnet-check_grid_artefact",
        "model": "zoo_resnet",
        "explainer": "ig",
        "check": "check_grid_artefact",
        "outcome": "passed",
        "value": {"grid_score": 1.5, "period": 16, "uniform_patch": False},
    },
    {
        "id": "ig-zoo_vit_p16-check_grid_artefact",
        "model": "zoo_vit_p16",
        "explainer": "ig",
        "check": "check_grid_artefact",
        "outcome": "passed",
        "value": {"grid_score": 4.2, "period": 16, "uniform_patch": True},
    },
    {
        "id": "ig-mystery-check_grid_artefact",
        "model": "mystery",
        "explainer": "ig",
        "check": "check_grid_artefact",
        "outcome": "failed",
        "value": "grid: boom",
    },
    {
        "id": "gradcam-r_random-check_resolution",
        "model": "r_random",
        "explainer": "gradcam",
        "check": "check_resolution",
        "outcome": "passed",
        "value": {"measured": {"25%": [56, 56], "100%": [7, 7]}, "expected": {"25%": [56, 56], "100%": [14, 14]}},
    },
    {
        "id": "gradcam-s-check_randomisation_sanity",
        "model": "s",
        "explainer": "gradcam",
        "check": "check_randomisation_sanity",
        "outcome": "passed",
        "value": {"original": 1.0, "head": 0.9, "100%": 0.1},
    },
    {
        "id": "gradcam-x-check_shape",
        "model": "x",
        "explainer": "gradcam",
        "check": "check_shape",
        "outcome": "passed",
        "value": 1.0,
    },
]
CASES = [CaseRecord.from_dict(c) for c in CASES]  # what the suites make, as the plugin hands them over


def test_tables_from_records():
    t = property_tables(CASES, family_of=registry_family)
    assert [r["kind"] for r in t["completeness"]] == ["fixed", "hypothesis"]
    assert t["completeness"][1]["outcome"] == "xfailed" and t["completeness"][1]["max_rel_error"] == 0.128
    assert t["convergence"][0]["n_steps=64"] == 0.02
    cons = {(r["model"], r["cut"]): r for r in t["conservation"]}
    assert len(cons) == 5 + 4  # CNN: 4 depth cuts + input; ViT: 2 blocks + tokens + input
    assert cons[("cnn1", "input")]["bias_kept_leak"] == 0.4 and cons[("cnn1", "25%")]["bias_kept_leak"] is None
    assert cons[("cnn1", "25%")]["rtol"] == 0.05
    assert cons[("vit1", "blocks.0")]["attnlrp_leak"] == -0.7 and cons[("vit1", "tokens")]["conservative_gap"] == 3e-7
    grid = t["grid"]
    assert [r["model"] for r in grid] == ["zoo_vit_p16", "zoo_resnet", "mystery"]  # sorted, failed value last
    assert [r["family"] for r in grid] == ["transformer", "cnn", "?"]  # from the registry; unknown -> ?
    res = {r["depth"]: r for r in t["resolution"]}
    assert res["25%"]["match"] is True and res["100%"]["match"] is False
    assert (res["100%"]["expected"], res["100%"]["measured"]) == ("14x14", "7x7")
    assert t["sanity"][0]["100%"] == 0.1
    assert not any(r.get("model") == "x" for rows in t.values() for r in rows)  # other checks are ignored


def test_old_resolution_records_read_as_measured():
    old = CaseRecord(
        id="r", explainer="gradcam", check="check_resolution", model="r", value={"25%": [56, 56]}, outcome="passed"
    )
    row = property_tables([old])["resolution"][0]
    assert (row["measured"], row["expected"], row["match"]) == ("56x56", None, None)


def test_written_files_and_index_link(tmp_path):
    assert not write_properties(tmp_path, [CASES[-1]])  # no property case: nothing written
    assert not (tmp_path / "properties.md").exists()
    session = dict(cases=CASES, top1={}, skipped_models={}, bad_images={}, store_stats={})
    out, _ = build_report(
        tmp_path / "reports", "run1", root=tmp_path, store=Store(tmp_path / "store"), settings={}, session=session
    )
    md = (out / "properties.md").read_text()
    for heading in ("## completeness", "## convergence", "## conservation", "## grid", "## resolution", "## sanity"):
        assert heading in md, heading
    assert "| vit1 | lrp_vit_cp | passed | blocks.0 | 2e-07 | 0.001 | -0.17 | -0.7 |" in md
    data = json.loads((out / "properties.json").read_text())
    assert len(data["tables"]["conservation"]) == 9
    assert "[properties.md](properties.md)" in (out / "index.md").read_text()
