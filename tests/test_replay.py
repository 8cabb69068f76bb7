"""Warm reruns replay stored check outcomes: nothing computed, no model loaded, the same outcomes.

A toy suite through pytester (in process, so a counting wrapper around
``build_module`` sees every model load): explanation checks through
``run_check``, a regression case, and structural checks through
``replay_case`` that pass, fail, xfail (strict) and error.
"""

import json

import pytest

import harness.models.loading as loading
from harness.compute.replay import CheckCache, Outcome, error_name, error_type
from harness.compute.store import Store

SUITE = """
import pytest
from pathlib import Path
from harness.checks.basic import CheckFailure
from harness.compute.replay import NotApplicable
from harness.suite import (CaseRecord, Case, explanation_params, model_inputs, record_case, replay_case,
                           run_check, run_regression)

THRESHOLD = {threshold!r}
ERRORS = Path({errors!r})

PAIRS = explanation_params(models=["toy_resnet"], explainers=["gradcam", "saliency"])

@pytest.mark.parametrize(("case", "check"), PAIRS)
def test_explanation(request, harness, case, check):
    run_check(request, harness, case, check)

REG = [pytest.param(Case("toy_resnet", "saliency"), id="saliency-toy_resnet-check_regression")]

@pytest.mark.parametrize("case", REG)
def test_regression(request, harness, case):
    run_regression(request, harness, case)

def _structural(request, harness, threshold):
    def body():
        run = harness.runner
        loaded = run.model("toy_resnet")
        value = float(loaded(run.batch("toy_resnet", list(run.images_for("toy_resnet").records[:2]))).abs().mean())
        record_case(request, CaseRecord(id=request.node.name, model="toy_resnet", explainer="-", check="check_toy",
                                        value={{"mean_abs_logit": value}}, model_label=loaded.label))
        if not value > threshold:
            raise CheckFailure(f"toy: mean |logit| {{value:.3g}} <= {{threshold}} [toy_resnet]")
    replay_case(request, harness, "check_toy", model_inputs(harness.runner, "toy_resnet", 2, threshold=threshold), body)

def test_passes(request, harness):
    _structural(request, harness, -1.0)

def test_fails(request, harness):
    _structural(request, harness, THRESHOLD)

@pytest.mark.xfail(raises=CheckFailure, strict=True, reason="known: the toy's logits are small")
def test_xfails(request, harness):
    _structural(request, harness, THRESHOLD)

def test_not_applicable(request, harness):
    def body():
        loaded = harness.runner.model("toy_resnet")
        record_case(request, CaseRecord(id=request.node.name, model="toy_resnet", explainer="-", check="check_na",
                                        model_label=loaded.label))
        raise NotApplicable("toy: no image has the region [toy_resnet]")
    replay_case(request, harness, "check_na", model_inputs(harness.runner, "toy_resnet", 2), body)

def test_errors_are_computed_again(request, harness):
    def body():
        with ERRORS.open("a") as f:
            f.write("ran\\n")
        raise RuntimeError("not a check outcome")
    replay_case(request, harness, "check_error", {{}}, body)
"""


@pytest.fixture
def toy_suite(pytester, image_dir, tmp_path, monkeypatch):
    loads = []
    build = loading.build_module

    def counting(cfg, **kw):
        loads.append(cfg.name)
        return build(cfg, **kw)

    monkeypatch.setattr(loading, "build_module", counting)
    errors = tmp_path / "errors.txt"

    def run(threshold=1e9):
        pytester.makepyfile(test_suite=SUITE.format(threshold=threshold, errors=str(errors)))
        loads.clear()
        result = pytester.runpytest(
            f"--harness-images=folder:{image_dir}",
            f"--harness-store={tmp_path / 'store'}",
            f"--harness-reports={tmp_path / 'reports'}",
            f"--harness-baselines={tmp_path / 'baselines'}",
            "-p",
            "no:cacheprovider",
            "-rA",
        )
        summary = json.loads((tmp_path / "reports" / "latest" / "summary.json").read_text())
        cases = {c["id"]: (c["outcome"], c["value"], c["message"]) for c in summary["cases"]}
        return result, summary["store"], cases, list(loads)

    run.errors = errors
    return run


def _outcomes(result):
    out = result.parseoutcomes()
    return {k: out.get(k, 0) for k in ("passed", "failed", "xfailed", "xpassed", "errors")}


def test_warm_rerun_computes_nothing_and_replays_outcomes(toy_suite):
    cold, cold_store, cold_cases, cold_loads = toy_suite()
    # 8 explanation checks (Grad-CAM's maps of the random toy are all zero: check_not_constant fails),
    # a regression case that writes its baseline and fails, a pass, a failure, an xfail, and an error
    assert _outcomes(cold) == {"passed": 8, "failed": 4, "xfailed": 1, "xpassed": 0, "errors": 0}
    assert cold_loads and cold_store["by_kind"]["check"]["writes"] >= 12
    second, _, _, _ = toy_suite()  # the regression case passes now that its baseline exists
    warm, warm_store, warm_cases, warm_loads = toy_suite()
    assert _outcomes(warm) == _outcomes(second) == {"passed": 9, "failed": 3, "xfailed": 1, "xpassed": 0, "errors": 0}
    assert warm_loads == [], f"a warm rerun loaded {warm_loads}"
    kinds = warm_store["by_kind"]
    assert kinds["check"]["misses"] == 1 and kinds["check"]["writes"] == 0  # only the error computes again
    assert all(c["misses"] == 0 and c["writes"] == 0 for k, c in kinds.items() if k != "check")
    assert "explanation" not in kinds or kinds["explanation"]["writes"] == 0
    assert toy_suite.errors.read_text().count("ran") == 3
    # the failing and xfailing checks replay as failures, with their values and messages
    failing = "gradcam-toy_resnet-check_not_constant"
    for name in ("test_fails", "test_xfails", failing):
        assert warm_cases[name] == cold_cases[name], name
    assert warm_cases["test_fails"][0] == "failed" and "toy: mean |logit|" in warm_cases["test_fails"][2]
    assert warm_cases[failing][0] == "failed" and "not constant" in warm_cases[failing][2]
    assert warm_cases["test_xfails"][0] == "xfailed"
    # a check that does not apply is a skip, stored: replayed as the same skip, its model not loaded
    assert cold.parseoutcomes()["skipped"] == warm.parseoutcomes()["skipped"] == 1
    assert warm_cases["test_not_applicable"] == cold_cases["test_not_applicable"]
    assert warm_cases["test_not_applicable"][0] == "skipped"
    assert "toy: no image has the region" in warm_cases["test_not_applicable"][2]
    assert {k: v for k, v in warm_cases.items() if "regression" not in k} == {
        k: v for k, v in cold_cases.items() if "regression" not in k
    }
    warm.stdout.fnmatch_lines(
        ["E*harness.checks.basic.CheckFailure: toy: mean |logit| * <= 1000000000.0 [[]toy_resnet[]]"]
    )


def test_changed_parameter_or_code_recomputes(toy_suite):
    toy_suite()
    _, store, cases, loads = toy_suite(threshold=-2.0)  # the suite module changed: every check in it again
    assert store["by_kind"]["check"]["misses"] >= 12 and loads
    assert cases["test_fails"][0] == "passed"


def test_a_failure_is_never_stored_as_a_pass(tmp_path):
    from harness.checks.basic import CheckFailure
    from harness.checks.regression import RegressionFailure

    cache = CheckCache(Store(tmp_path))
    fields = cache.fields("t::x", "check_x", {"a": 1}, "code")

    def fail():
        raise CheckFailure("x: 2 > 1 [e on m]")

    with pytest.raises(CheckFailure):
        cache.run(fields, fail, lambda: ["rec"], lambda p: None)
    restored = []
    with pytest.raises(CheckFailure, match=r"x: 2 > 1 \[e on m\]"):
        cache.run(fields, lambda: None, lambda: [], restored.append)
    assert restored == [["rec"]] and cache.computed == 1 and cache.replayed == 1
    assert error_type(error_name(RegressionFailure("r"))) is RegressionFailure
    assert error_name(RuntimeError("e")) is None and error_name(ValueError("v")) is None
    assert error_type("os:system") is None  # only harness failures and AssertionError are raised again
    with pytest.raises(AssertionError, match="plain"):
        Outcome(False, None, "builtins:AssertionError", "plain").replay()


def test_not_applicable_is_stored_and_other_skips_are_not(tmp_path):
    from harness.checks.interventions import NotApplicable as InterventionNotApplicable

    cache = CheckCache(Store(tmp_path))
    fields = cache.fields("t::na", "check_na", {"a": 1}, "code")

    def not_applicable():
        raise InterventionNotApplicable("intervention background: no evaluated image [e on m]")

    with pytest.raises(InterventionNotApplicable):
        cache.run(fields, not_applicable, lambda: ["rec"], lambda p: None)
    with pytest.raises(InterventionNotApplicable, match=r"no evaluated image \[e on m\]"):
        cache.run(fields, lambda: None, lambda: [], lambda p: None)
    assert cache.computed == 1 and cache.replayed == 1
    # a skip for something outside the inputs (no weights, no browser) computes again next time
    other = cache.fields("t::skip", "check_skip", {}, "code")
    for _ in range(2):
        with pytest.raises(pytest.skip.Exception):
            cache.run(other, lambda: pytest.skip("no weights here"), lambda: [], lambda p: None)
    assert cache.computed == 3 and cache.replayed == 1


def test_replay_off_computes_every_check(tmp_path, monkeypatch):
    cache = CheckCache(Store(tmp_path))
    fields = cache.fields("t::y", "check_y", {}, "code")
    runs = []
    cache.run(fields, lambda: runs.append(1), lambda: [], lambda p: None)
    monkeypatch.setenv("XAI_HARNESS_REPLAY", "0")
    cache.run(fields, lambda: runs.append(1), lambda: [], lambda p: None)
    assert runs == [1, 1]
