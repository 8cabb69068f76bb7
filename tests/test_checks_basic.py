"""check_not_constant: the ReLU of the Grad-CAM family may zero a minority of maps, nothing else may."""

from types import SimpleNamespace

import numpy as np
import pytest

from harness.checks import CheckFailure
from harness.checks.basic import check_not_constant


def _result(explainer: str, n_zero: int, n: int = 4, constant_value: float = 0.0):
    maps = np.random.default_rng(0).random((n, 8, 8)).astype(np.float32)
    maps[:n_zero] = constant_value
    records = [SimpleNamespace(id=f"img{i}") for i in range(n)]
    return SimpleNamespace(explainer=explainer, model_label="toy", records=records, attributions=maps)


def test_rectified_explainer_may_zero_a_minority_of_maps():
    assert check_not_constant(_result("gradcam", n_zero=1)) > 0
    assert check_not_constant(_result("scorecam", n_zero=2)) > 0


def test_rectified_explainer_may_not_zero_most_maps():
    with pytest.raises(CheckFailure, match=r"all-zero maps: 3/4.*\[gradcam on toy\]"):
        check_not_constant(_result("gradcam", n_zero=3))


def test_constant_nonzero_map_fails_even_when_rectified():
    with pytest.raises(CheckFailure, match="1 constant map"):
        check_not_constant(_result("gradcam", n_zero=1, constant_value=0.5))


def test_other_explainers_may_not_return_a_zero_map():
    with pytest.raises(CheckFailure, match="1 constant map"):
        check_not_constant(_result("saliency", n_zero=1))
