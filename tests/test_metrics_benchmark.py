"""pytest-benchmark: batched metrics against plain Quantus 0.6.0 on the same inputs.

Workload: one model, 4 images, 3 attribution sets (two explainers and the
random control, as the leaderboard scores them).  *Plain* is Quantus called
the way its README does, once per set:
``quantus.PixelFlipping(features_in_step=..., ...)(model=module, x_batch=x,
y_batch=y, a_batch=a, device="cpu", channel_first=True, softmax=...)``
(:func:`harness.metrics.plain.quantus_scores`; ROAD goes through Quantus's
own imputation one sample at a time, as Quantus's ROAD cannot score RGB).
*Batched* scores the three sets in one call, through the checked frozen
TorchScript copy of the model that the suite uses on the CPU
(:func:`harness.metrics.forward.inference_module`); *plain_frozen* is
plain Quantus handed that same frozen copy, which splits the speed-up into
what the faster forward pass gives any caller and what the harness's
batching and shared passes add.  Both use the parameters of
:data:`~harness.metrics.plain.REFERENCE_OVERRIDES` over the metric's
defaults, the same ones ``tests/test_metrics_equality.py`` checks for
equality.  Each benchmark group holds ``plain`` and ``batched`` for one
metric; the batched and plain_frozen entries' ``extra_info`` carry
``speedup_vs_plain`` (ratio of the means), the forward module used and the
thread count, which all sides share.

Every round starts with FaithfulnessCorrelation's pass cache empty
(:func:`harness.metrics.faithfulness._fc_passes`), so each scores its sets
from scratch; the frozen copy is built once before the rounds, as the suite
builds it once per model (0.1-0.3 s on the zoo).

``toy_resnet`` (64 px) by default so CI stays short;
``XAI_HARNESS_BENCH_MODEL=zoo_resnet`` runs the trained 224 px model and
``XAI_HARNESS_BENCH_PARAMS="pixel_flipping.steps=24 monotonicity_correlation.nr_samples=10"``
raises parameters (both sides); ``XAI_HARNESS_BENCH_ROUNDS`` (default 3) sets the rounds;
``XAI_HARNESS_BENCH_SETS=5`` scores five sets (four explainer-like sets and the control, as the suite
does per model with its four default explainers).
"""

import os

import numpy as np
import pytest
import torch

from harness.metrics import MetricInputs, faithfulness, get_metric
from harness.metrics.forward import inference_module
from harness.metrics.plain import REFERENCE_OVERRIDES, quantus_scores
from harness.models import load_model
from harness.suite.session import parse_metric_params

MODEL = os.environ.get("XAI_HARNESS_BENCH_MODEL", "toy_resnet")
EXTRA = {m: dict(p) for m, p in parse_metric_params(os.environ.get("XAI_HARNESS_BENCH_PARAMS", "").split())}
ROUNDS = int(os.environ.get("XAI_HARNESS_BENCH_ROUNDS", "3"))
SETS = max(3, int(os.environ.get("XAI_HARNESS_BENCH_SETS", "3")))
METRICS = ("faithfulness_correlation", "pixel_flipping", "monotonicity_correlation", "road")
_PLAIN_MEAN: dict[str, float] = {}


@pytest.fixture(scope="module")
def workload():
    model = load_model(MODEL, random_ok=True)
    s = model.cfg.input_size
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.interpolate(torch.rand(4, 3, 8, 8, generator=g), size=s, mode="bilinear") * 2 - 1
    x = x.numpy().astype(np.float32)
    with torch.no_grad():
        y = model.module(torch.from_numpy(x)).argmax(1).numpy()
    rng = np.random.default_rng(0)
    sets = {
        "a": rng.standard_normal((4, s, s)).astype(np.float32),
        "b": np.kron(rng.random((4, 8, 8)), np.ones((s // 8, s // 8))).astype(np.float32),
    }
    for i in range(SETS - 3):  # more explainer-like sets: alternately pixel noise and 8x8 blocks
        sets[f"extra{i}"] = (
            rng.standard_normal((4, s, s)) if i % 2 else np.kron(rng.random((4, 8, 8)), np.ones((s // 8, s // 8)))
        ).astype(np.float32)
    sets["random"] = rng.random((4, s, s)).astype(np.float32)
    return model, x, y, sets


@pytest.mark.parametrize("impl", ["plain", "plain_frozen", "batched"])
@pytest.mark.parametrize("metric", METRICS)
def test_benchmark(benchmark, workload, metric, impl):
    model, x, y, sets = workload
    cfg, fn = get_metric(metric)
    params = cfg.params(**{**REFERENCE_OVERRIDES.get(metric, {}), **EXTRA.get(metric, {})})
    benchmark.group = f"{metric} [{MODEL}, 4 images, {len(sets)} sets]"
    benchmark.extra_info.update(
        metric=metric,
        impl=impl,
        model=MODEL,
        images=len(x),
        sets=len(sets),
        params=repr(params),
        torch_threads=torch.get_num_threads(),
        omp_num_threads=os.environ.get("OMP_NUM_THREADS", "unset"),
    )
    if impl == "plain":
        run = lambda: {k: quantus_scores(metric, model.module, x, y, a, **params) for k, a in sets.items()}
    elif impl == "plain_frozen":
        frozen, how = inference_module(model.module, x)
        benchmark.extra_info["forward"] = how
        run = lambda: {k: quantus_scores(metric, frozen, x, y, a, **params) for k, a in sets.items()}
    else:
        inp = MetricInputs(model.module, x, y, model.cfg.num_classes)
        inp.forward_module()
        benchmark.extra_info.update(forward_batch=inp.batch_size, forward=inp.forward_how)
        run = lambda: fn(inp, sets, **params)
    # every round starts cold: FaithfulnessCorrelation's pass cache would otherwise answer the timed rounds
    out = benchmark.pedantic(run, setup=faithfulness._FC_PASSES.clear, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert set(out) == set(sets) and all(np.all(np.isfinite(v)) for v in out.values())
    if benchmark.stats is None:  # --benchmark-disable: the scores were checked, there is nothing to time
        return
    mean = benchmark.stats.stats.mean
    if impl == "plain":
        _PLAIN_MEAN[metric] = mean
    elif metric in _PLAIN_MEAN:  # plain runs first (parametrize order)
        benchmark.extra_info["speedup_vs_plain"] = round(_PLAIN_MEAN[metric] / mean, 3)
