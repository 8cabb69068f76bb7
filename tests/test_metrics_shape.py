"""A metric's scores are one per image, or nothing is stored (Quantus 0.5.3 returns other shapes: docs/drift.md)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.metrics.evaluate import _one_per_image


def test_scores_of_another_shape_are_refused_with_the_metric_and_set_named():
    _one_per_image({"ig": np.zeros(4), "random": np.ones(4)}, 4, "sparseness", "toy")  # one per image: fine
    with pytest.raises(ValueError, match=r"monotonicity_correlation \[ig on toy\]: scores of shape \(12, 12\) for 4"):
        _one_per_image({"ig": np.zeros((12, 12))}, 4, "monotonicity_correlation", "toy")
    with pytest.raises(ValueError, match=r"\[random on toy\]: scores of shape \(16,\) for 4 images.*quantus>=0.6"):
        _one_per_image({"ig": np.zeros(4), "random": np.zeros(16)}, 4, "faithfulness_correlation", "toy")
