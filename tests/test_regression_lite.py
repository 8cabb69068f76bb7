"""Our own CI gate: the real EfficientNet-Lite explanations against committed baselines.

Runs ``suites/test_regression.py`` itself on the first 4 of foolbox's ImageNet
photos (the baselines hold all 26 built-in images; the check compares the
images it computed).  It works on a copy of ``suites/baselines`` so a test
run never writes into the repository.
"""

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BASELINES = REPO / "suites" / "baselines"
LITE_CASES = 12  # 3 models x 4 explainers


@pytest.mark.slow
def test_lite_explanations_match_committed_baselines(pytester, tmp_path):
    committed = sorted(BASELINES.glob("*-efficientnet_lite?.json"))
    assert len(committed) == LITE_CASES, f"expected {LITE_CASES} committed Lite baselines in {BASELINES}"
    shutil.copytree(BASELINES, tmp_path / "baselines")
    pytester.makepyfile(test_reg=(REPO / "suites" / "test_regression.py").read_text())
    result = pytester.runpytest(
        "-k",
        "efficientnet_lite and not zoo",
        "--harness-images=foolbox",
        "--harness-max-images=4",
        f"--harness-store={tmp_path / 'store'}",
        f"--harness-baselines={tmp_path / 'baselines'}",
        "--harness-no-report",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=LITE_CASES)
