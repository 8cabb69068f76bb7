"""pytest-benchmark: batched metrics against plain Quantus 0.6.0 on the same inputs.

Workload: one model, 4 images, 3 attribution sets (two explainers and the
random control, as the leaderboard scores them).  Plain Quantus is called
once per set; the harness scores the sets in one call.  Each benchmark
group holds ``plain`` and ``batched`` for one metric; the speed-up is the
ratio of their means in the JSON (``--benchmark-json``).  The model is
``toy_resnet`` (64 px) by default so CI stays short; set
``XAI_HARNESS_BENCH_MODEL=zoo_resnet`` for the trained 224 px model.
"""

import os

import numpy as np
import pytest
import torch

from harness.metrics import MetricInputs, get_metric
from harness.metrics.plain import quantus_scores
from harness.models import load_model

MODEL = os.environ.get("XAI_HARNESS_BENCH_MODEL", "toy_resnet")
METRICS = ("faithfulness_correlation", "pixel_flipping", "monotonicity_correlation", "road")
PARAMS = {"road": {"percentages": (10, 50, 90)}}


@pytest.fixture(scope="module")
def workload():
    model = load_model(MODEL, random_ok=True)
    s = model.cfg.input_size
    g = torch.Generator().manual_seed(0)
    x = (torch.nn.functional.interpolate(torch.rand(4, 3, 8, 8, generator=g), size=s, mode="bilinear") * 2 - 1)
    x = x.numpy().astype(np.float32)
    with torch.no_grad():
        y = model.module(torch.from_numpy(x)).argmax(1).numpy()
    rng = np.random.default_rng(0)
    sets = {"a": rng.standard_normal((4, s, s)).astype(np.float32),
            "b": np.kron(rng.random((4, 8, 8)), np.ones((s // 8, s // 8))).astype(np.float32),
            "random": rng.random((4, s, s)).astype(np.float32)}
    return model, x, y, sets


@pytest.mark.parametrize("impl", ["plain", "batched"])
@pytest.mark.parametrize("metric", METRICS)
def test_benchmark(benchmark, workload, metric, impl):
    model, x, y, sets = workload
    cfg, fn = get_metric(metric)
    params = cfg.params(**PARAMS.get(metric, {}))
    benchmark.group = f"{metric} [{MODEL}, 4 images, 3 sets]"
    benchmark.extra_info.update(metric=metric, impl=impl, model=MODEL, sets=len(sets), params=repr(params))
    if impl == "plain":
        run = lambda: {k: quantus_scores(metric, model.module, x, y, a, **params) for k, a in sets.items()}
    else:
        inp = MetricInputs(model.module, x, y, model.cfg.num_classes)
        run = lambda: fn(inp, sets, **params)
    out = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    assert set(out) == set(sets) and all(np.all(np.isfinite(v)) for v in out.values())
