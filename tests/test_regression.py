"""Explainer regression baselines: the pytest-regressions workflow, end to end."""

import json
from pathlib import Path

import numpy as np
import pytest

from harness.checks.regression import (
    DETERMINISTIC_TOLERANCES,
    RegressionFailure,
    Tolerances,
    compare_summaries,
    summarize,
)
from harness.core.seeds import seed_for
from harness.suite import make_case

SUITE = """
import pytest
from harness.suite import Case
from harness.suite import run_regression

BASELINE = {baseline!r}

@pytest.mark.parametrize("case", [pytest.param(Case("toy_linear", "ig", (("baseline", BASELINE), ("n_steps", 8))),
                                               id="ig-toy_linear-check_regression")])
def test_regression(request, harness, case):
    run_regression(request, harness, case)
"""


@pytest.fixture
def run_suite(pytester, image_dir, tmp_path):
    def run(baseline: str, *extra: str):
        pytester.makepyfile(test_reg=SUITE.format(baseline=baseline))
        return pytester.runpytest(
            f"--harness-images=folder:{image_dir}",
            f"--harness-store={tmp_path / 'store'}",
            f"--harness-baselines={tmp_path / 'baselines'}",
            "--harness-no-report",
            "-p",
            "no:cacheprovider",
            *extra,
        )

    return run


def test_changed_parameter_fails_then_passes_after_regen(run_suite, tmp_path, image_dir):
    base = tmp_path / "baselines" / image_dir.name / "ig-toy_linear.json"  # keyed by the image set (a folder)
    first = run_suite("black")
    first.assert_outcomes(failed=1)  # no baseline yet: written, and the case fails
    first.stdout.fnmatch_lines(["*no baseline existed; wrote*ig-toy_linear.json*"])
    assert base.is_file()
    run_suite("black").assert_outcomes(passed=1)  # same behaviour: passes

    drift = run_suite("blur")  # IG baseline black -> blur
    drift.assert_outcomes(failed=1)
    drift.stdout.fnmatch_lines(
        [
            "*ig-toy_linear: explanations drifted from*",
            "*ig-toy_linear [*]: params *'baseline': 'black'* -> *'baseline': 'blur'* (must be equal)*",
            "*ig-toy_linear imgs/n01440764/img0: *(needs >= 0.999)*",
            "*obtained values kept in*obtained.json*--harness-regen*",
        ]
    )
    obtained = base.with_name("ig-toy_linear.obtained.json")
    assert json.loads(obtained.read_text())["params"]["baseline"] == "blur"

    regen = run_suite("blur", "--harness-regen")  # rewrites and fails, as pytest-regressions' --force-regen
    regen.assert_outcomes(failed=1)
    regen.stdout.fnmatch_lines(["*ig-toy_linear: regenerated*ig-toy_linear.json*--harness-regen*"])
    assert json.loads(base.read_text())["params"]["baseline"] == "blur" and not obtained.exists()
    run_suite("blur").assert_outcomes(passed=1)
    run_suite("black", "--harness-regen-accept").assert_outcomes(passed=1)  # rewrites and passes
    assert json.loads(base.read_text())["params"]["baseline"] == "black"
    run_suite("black").assert_outcomes(passed=1)


class _Result:
    def __init__(self, maps, targets):
        from harness.images import ImageRecord

        self.records = [ImageRecord(id=f"i{k}", path=Path("x")) for k in range(len(maps))]
        self.attributions, self.targets = maps, np.asarray(targets)
        self.model, self.explainer, self.params = "m", "e", {"p": 1}


def test_tolerances_per_quantity():
    rng = np.random.default_rng(0)
    maps = rng.random((2, 48, 48)).astype(np.float32)
    base = summarize(_Result(maps, [1, 2]))
    assert compare_summaries(base, summarize(_Result(maps * (1 + 1e-5), [1, 2])), DETERMINISTIC_TOLERANCES) == []
    moved = compare_summaries(base, summarize(_Result(maps * 1.2, [1, 3])), DETERMINISTIC_TOLERANCES)
    quantities = {d.quantity for d in moved}
    assert {"target", "mean", "sum", "max"} <= quantities and "map cosine" not in quantities
    flipped = compare_summaries(base, summarize(_Result(maps[:, ::-1].copy(), [1, 2])), DETERMINISTIC_TOLERANCES)
    assert {"map cosine", "top-14 cell overlap"} <= {d.quantity for d in flipped}
    loose = Tolerances(map_cosine=0.0, topk_overlap=0.0, scalar_rtol=1.0)
    assert compare_summaries(base, summarize(_Result(maps[:, ::-1].copy(), [1, 2])), loose) == []


def test_missing_image_in_baseline_is_drift():
    rng = np.random.default_rng(1)
    base = summarize(_Result(rng.random((1, 32, 32)), [0]))
    new = summarize(_Result(rng.random((2, 32, 32)), [0, 0]))
    assert any(d.quantity == "baseline entry" and d.image == "i1" for d in compare_summaries(base, new, Tolerances()))


def test_stochastic_cases_are_seeded_from_their_id():
    assert seed_for("kernelshap-resnet18") == seed_for("kernelshap-resnet18") != seed_for("kernelshap-resnet50")
    assert dict(make_case("resnet18", "kernelshap").params) == {"seed": seed_for("kernelshap-resnet18")}
    assert make_case("resnet18", "ig").params == ()


def test_regression_failure_is_an_assertion():
    assert issubclass(RegressionFailure, AssertionError)
