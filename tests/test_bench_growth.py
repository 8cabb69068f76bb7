"""pytest-benchmark: how a grid's cost grows with images (1, 8, 64) and with models; it should be linear.

Each point is a fresh store and ``harness.suite.grid.run_grid`` on the local
engine (Grad-CAM and Saliency with their target probes, predictions
included).  The last image point's ``extra_info`` carries the least-squares
slope (seconds per image) and intercept over the points and the step ratios
``t(8)/t(1)`` and ``t(64)/t(8)`` against the image ratios 8 (a ratio above
the image ratio is a super-linear step); the models point compares the grid
of three toy models with the sum of their single-model grids
(``ratio_vs_sum``, 1 when linear).  ``XAI_HARNESS_BENCH_GROWTH_MODEL``
(default ``toy_resnet``) picks the model of the image series.

Timed (marker ``bench``): runs only with ``XAI_HARNESS_BENCH=1`` or ``-m bench``
(skipped otherwise, so ``tox -e tests`` does not pay for it).
"""

import os

import numpy as np
import pytest

from harness.compute.engines import LocalEngine, Worker
from harness.compute.runner import Runner
from harness.compute.store import Store
from harness.images import image_folder
from harness.suite.grid import plan_grid, run_grid

pytestmark = pytest.mark.bench  # skipped unless XAI_HARNESS_BENCH=1 or -m bench (tests/conftest.py)


MODEL = os.environ.get("XAI_HARNESS_BENCH_GROWTH_MODEL", "toy_resnet")
EXPLAINERS = ["gradcam", "saliency"]
SIZES = (1, 8, 64)
MODELS = ["toy_resnet", "toy_vit", "toy_efficientnet"]
_POINTS: dict[object, float] = {}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from conftest import write_png

    root = tmp_path_factory.mktemp("growth") / "imgs"
    for i in range(max(SIZES)):
        write_png(root / "n01440764" / f"img{i:02d}.png", seed=i)
    return root


def _grid(folder, tmp_path, models, n, tag):
    engine = LocalEngine(Worker(device="cpu"))
    tasks = plan_grid(models, EXPLAINERS)
    counter = iter(range(1000))

    def once():
        runner = Runner(Store(tmp_path / f"{tag}-{next(counter)}"), image_folder(folder).head(n), device="cpu")
        return run_grid(runner, tasks, engine)

    return once


@pytest.mark.parametrize("n", SIZES)
def test_growth_images(benchmark, folder, tmp_path, n):
    benchmark.group = f"growth with images [{MODEL}, {'+'.join(EXPLAINERS)}]"
    report = benchmark.pedantic(_grid(folder, tmp_path, [MODEL], n, "img"), rounds=2, iterations=1, warmup_rounds=1)
    assert not report.failures and report.computed >= 2 * n
    benchmark.extra_info.update(images=n, explanations=report.computed)
    if benchmark.stats is None:
        return
    _POINTS[n] = benchmark.stats.stats.min
    if len(_POINTS) == len(SIZES):
        ns = np.array(SIZES, float)
        ts = np.array([_POINTS[k] for k in SIZES])
        slope, intercept = np.polyfit(ns, ts, 1)
        benchmark.extra_info.update(
            slope_s_per_image=round(float(slope), 5),
            intercept_s=round(float(intercept), 4),
            step_1_to_8=round(float(ts[1] / ts[0]), 3),
            step_8_to_64=round(float(ts[2] / ts[1]), 3),
        )


@pytest.mark.parametrize("which", [*MODELS, "all"])
def test_growth_models(benchmark, folder, tmp_path, which):
    models = MODELS if which == "all" else [which]
    benchmark.group = f"growth with models [8 images, {'+'.join(EXPLAINERS)}]"
    report = benchmark.pedantic(_grid(folder, tmp_path, models, 8, which), rounds=2, iterations=1, warmup_rounds=1)
    assert not report.failures
    benchmark.extra_info.update(models=models)
    if benchmark.stats is None:
        return
    _POINTS[which] = benchmark.stats.stats.min
    if which == "all" and all(m in _POINTS for m in MODELS):
        benchmark.extra_info["ratio_vs_sum"] = round(_POINTS["all"] / sum(_POINTS[m] for m in MODELS), 3)
