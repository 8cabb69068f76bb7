"""The plugin end to end, through pytester, on toy models and tiny images."""

import json

import pytest

SUITE = """
import pytest
from harness.suite import explanation_params, run_check, run_top1

@pytest.mark.parametrize(("case", "check"), explanation_params(models=MODELS, explainers=["gradcam", "saliency"]))
def test_explanation(request, harness, case, check):
    run_check(request, harness, case, check)

@pytest.mark.parametrize("model", MODELS)
def test_top1(request, harness, model):
    run_top1(request, harness, model)
"""


@pytest.fixture
def suite(pytester, image_dir, tmp_path):
    def make(models):
        pytester.makepyfile(test_suite=f"MODELS = {models!r}\n" + SUITE)
        return [
            f"--harness-images=folder:{image_dir}",
            f"--harness-store={tmp_path / 'store'}",
            f"--harness-reports={tmp_path / 'reports'}",
            "-p",
            "no:cacheprovider",
        ]

    return make


def test_cases_ids_marks_and_report(pytester, suite, tmp_path):
    args = suite(["toy_linear", "toy_vit"])
    result = pytester.runpytest(*args, "-v")
    result.assert_outcomes(passed=18)
    result.stdout.fnmatch_lines(
        [
            "*test_explanation?gradcam-toy_vit-check_shape? PASSED*",
            "*xai-harness*",
            "memory: peak resident set *GiB (high-water mark of a test process), first reached during *",
            "gradcam [[]cosine[]]: cannot tell whether clusters follow architecture*",
            "*report:*index.md",
        ]
    )
    selected = pytester.runpytest(*args, "-m", "transformer", "-k", "check_finite", "--collect-only", "-q")
    selected.stdout.fnmatch_lines(
        ["*gradcam-toy_vit-check_finite*", "*saliency-toy_vit-check_finite*", "*2/18 tests collected*"]
    )
    latest = tmp_path / "reports" / "latest"
    summary = json.loads((latest / "summary.json").read_text())
    assert {c["id"] for c in summary["cases"]} >= {"gradcam-toy_vit-check_shape"}
    assert summary["top1"]["toy_linear"]["labelled"] == 4
    # each case carries the process's high-water mark, which only rises: nothing resets it mid-run
    peaks = [c["peak_rss_mb"] for c in summary["cases"]]
    assert all(p > 0 for p in peaks) and peaks == sorted(peaks)
    assert summary["versions"]["torch"] and summary["machine"]["cpu_count"]
    assert (latest / "summary.md").read_text().startswith("# xai-harness run")
    for name in (
        "index.md",
        "index.html",
        "consensus.json",
        "consensus/gradcam/cosine_similarity.csv",
        "consensus/saliency/kappa_top10_dendrogram.png",
        "consensus/saliency/rbf_heatmap.png",
    ):
        assert (latest / name).is_file(), name
    consensus = json.loads((latest / "consensus.json").read_text())
    assert {e["slug"] for e in consensus["explainers"]} == {"gradcam", "saliency"}
    assert consensus["explainers"][0]["images"] and len(consensus["explainers"][0]["models"]) == 2


def test_same_prediction_option_reaches_the_report(pytester, suite, tmp_path):
    args = suite(["toy_linear", "toy_vit"])
    pytester.runpytest(*args, "--harness-same-prediction").assert_outcomes(passed=18)
    consensus = json.loads((tmp_path / "reports" / "latest" / "consensus.json").read_text())
    assert consensus["options"]["same_prediction"] is True


def test_second_run_hits_the_cache(pytester, suite):
    args = suite(["toy_linear"])
    pytester.runpytest(*args).assert_outcomes(passed=9)
    again = pytester.runpytest(*args)
    again.assert_outcomes(passed=9)
    again.stdout.fnmatch_lines(["store: * hits, 0 misses, 0 writes*"])


def test_model_without_weights_is_deselected_and_listed_once(pytester, suite, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    args = suite(["resnet18", "resnet50"])
    quiet = pytester.runpytest(*args, "-rs", "-q")  # -q (verbosity -1, as tox -e suites) is quieter, not verbose
    quiet.assert_outcomes(skipped=2, deselected=16)
    quiet.stdout.fnmatch_lines(
        ["2 model(s) have no weights here; their 16 cases were deselected (--harness-show-skipped keeps them*-v*"]
    )
    assert not [line for line in quiet.stdout.lines if line.startswith("  resnet18  cnn")]
    result = pytester.runpytest(*args, "-rs", "-v")
    # the generated cases are deselected at collection; the hand-parametrised top-1 test skips at run time
    result.assert_outcomes(skipped=2, deselected=16)
    result.stdout.fnmatch_lines(
        [
            "2 model(s) have no weights here; their 16 cases were deselected (--harness-show-skipped keeps them*",
            "  resnet18  cnn *8 cases  resnet18.safetensors in --harness-weights DIR or HF cache timm/resnet18*",
            "  resnet50  cnn *8 cases*",
        ]
    )
    lines = [
        line
        for line in result.stdout.lines
        if ("no weights" in line or ".safetensors" in line) and not line.startswith("test_suite.py::")
    ]
    assert len(lines) == 3 + 2, lines  # the block's header and two models, plus the two -rs skip lines


def test_show_skipped_keeps_the_cases_as_skips_with_the_reason(pytester, suite, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    args = suite(["resnet18"])
    result = pytester.runpytest(*args, "-rs", "--harness-show-skipped")
    result.assert_outcomes(skipped=9)
    result.stdout.fnmatch_lines(["*resnet18: no weights offline; put resnet18.safetensors*--harness-weights*"])


def test_failing_case_does_not_stop_the_session(pytester, suite):
    args = suite(["toy_linear"])
    pytester.makeconftest("""
import pytest
from harness.explainers import registry

@pytest.fixture(autouse=True)
def break_saliency(monkeypatch):
    cfg, fn = registry.EXPLAINERS.get("saliency")
    def boom(model, x, target):
        raise RuntimeError("saliency exploded")
    monkeypatch.setitem(registry.EXPLAINERS._entries, "saliency", (cfg, boom))
""")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=5, failed=4)
    result.stdout.fnmatch_lines(["*saliency exploded*"])


def test_progress_is_on_the_case_line_with_v_and_never_mid_line_without(pytester, suite, monkeypatch):
    args = suite(["toy_linear"])
    verbose = pytester.runpytest(*args, "-v")
    verbose.stdout.fnmatch_lines(["*test_explanation?gradcam-toy_linear-check_shape? PASSED (4 computed, *s)*"])
    assert not [line for line in verbose.stdout.lines if line.startswith("  xai-harness:")]
    # a rate line whenever one is due (every 0 s here), but only where pytest has ended a line of dots
    monkeypatch.setattr("harness.plugin.RATE_EVERY_S", 0.0)
    pytester.makepyfile(
        test_pad="import pytest\n\n@pytest.mark.parametrize('i', range(150))\ndef test_pad(i):\n    pass\n"
    )
    quiet = pytester.runpytest(*args, "test_suite.py", "test_pad.py")
    body = [line for line in quiet.stdout.lines if line.startswith(("test_", ".", "  xai-harness:"))]
    rates = [line for line in body if line.startswith("  xai-harness:")]
    assert rates and all(" cases, " in r and " explanations computed " in r for r in rates)
    for line in body:  # every other line is pytest's own: dots (and its [ nn%]) with nothing appended
        if not line.startswith("  xai-harness:"):
            assert "xai-harness" not in line, line
