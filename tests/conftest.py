"""Shared fixtures for the harness's own unit tests (toy models, tiny images), and the ``bench`` skip."""

import os
from pathlib import Path

# pytester's in-process runs forget modules first imported inside them, and
# torch's operator libraries cannot be registered twice: import the heavy
# stack once, up front, so every in-process run finds it already loaded.
import captum.attr  # noqa: F401,E402
import numpy as np
import pytest
import skimage.segmentation  # noqa: F401,E402
import timm  # noqa: F401,E402

pytest_plugins = ["pytester"]

BENCH_SKIP = "timed benchmark: set XAI_HARNESS_BENCH=1 or select it with -m bench (docs/performance.md)"


def pytest_collection_modifyitems(config, items):
    """Timed benchmarks (marker ``bench``) run only with ``XAI_HARNESS_BENCH=1`` or when ``-m`` names ``bench``."""
    if os.environ.get("XAI_HARNESS_BENCH") or "bench" in (config.getoption("markexpr") or ""):
        return
    for item in items:
        if item.get_closest_marker("bench") is not None:
            item.add_marker(pytest.mark.skip(reason=BENCH_SKIP))


def write_png(path: Path, seed: int, size: int = 48) -> Path:
    """A smooth random colour image (SLIC finds real segments in it)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((size, size), Image.BILINEAR)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    """Four small PNGs in ImageNet synset folders (labels 0 and 1)."""
    root = tmp_path / "imgs"
    for i, syn in enumerate(["n01440764", "n01440764", "n01443537", "n01443537"]):
        write_png(root / syn / f"img{i}.png", seed=i)
    return root


def toy_metric_batch(model):
    """Three smooth 64-px inputs in [-1, 1] and the model's predicted classes (the metric tests' inputs)."""
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.interpolate(torch.rand(3, 3, 8, 8, generator=g), size=64, mode="bilinear") * 2 - 1
    x = x.numpy().astype(np.float32)
    with torch.no_grad():
        y = model.module(torch.from_numpy(x)).argmax(1).numpy()
    return x, y
