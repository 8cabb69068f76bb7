"""The noise floor: determinism classes measured by repeat runs, and the tolerances they give."""

from __future__ import annotations

import numpy as np
import pytest

from harness.checks.noise import (
    FLOAT_FLOOR,
    IOU_CAP,
    NoiseFloor,
    classify,
    default_tolerance,
    measure_floor,
    read_floors,
    stored_floor,
    write_floors,
)
from harness.compare.change import map_change
from harness.compute.runner import Runner
from harness.compute.store import Store
from harness.images import image_folder


def test_classify():
    assert classify([0.0, 0.0], stochastic=False) == "bit-identical"
    assert classify([0.0, 3e-8], stochastic=False) == "float-tolerance"
    assert classify([0.0], stochastic=True) == "seeded-stochastic"


def test_tolerance_follows_the_spread():
    rng = np.random.default_rng(0)
    a = rng.random((32, 32))
    exact = NoiseFloor("m", "e", "bit-identical", 0.0, 1.0, 1.0, ("repeat",), 2).tolerance()
    assert exact.max_rel_l2 == FLOAT_FLOOR and exact.min_iou == IOU_CAP
    assert exact.broken(map_change(a, a * (1 + 1e-7))) == []  # float reordering is never drift
    assert exact.broken(map_change(a, a * 1.01))  # a 1 % rescale is, for a deterministic pair
    noisy = NoiseFloor("m", "e", "seeded-stochastic", 0.05, 0.99, 0.8, ("repeat",), 2).tolerance()
    assert noisy.max_rel_l2 == pytest.approx(0.15) and noisy.min_iou == pytest.approx(0.4)
    assert noisy.broken(map_change(a, a * 1.01)) == []
    assert "no noise floor" in default_tolerance("ig").source


def test_measure_floor_on_a_toy_model(tmp_path, image_dir):
    runner = Runner(Store(tmp_path / "store"), image_folder(image_dir), device="cpu", random_ok=True)
    grad = measure_floor(runner, "toy_resnet", "saliency", images=2)
    assert grad.determinism in ("bit-identical", "float-tolerance") and grad.spread < 1e-4
    assert set(grad.axes) == {"repeat", "batch 1", "2 threads"} and grad.images == 2
    shap = measure_floor(runner, "toy_resnet", "kernelshap", images=1)
    assert shap.determinism == "seeded-stochastic"
    write_floors(tmp_path / "noise.json", [grad, shap])
    assert stored_floor(runner, "toy_resnet", "saliency", images=2).determinism == grad.determinism
    again = Runner(Store(tmp_path / "store"), image_folder(image_dir), device="cpu", random_ok=True)
    assert stored_floor(again, "toy_resnet", "saliency", images=2).spread == pytest.approx(grad.spread)
    assert again.loads == 0, "a stored floor must not load the model"
    assert read_floors(tmp_path / "noise.json")[("toy_resnet", "saliency")] == grad
