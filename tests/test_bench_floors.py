"""pytest-benchmark: each batched metric against the bare forward passes its definition requires (target <= 1.25x).

The floor is measured, not estimated: one untimed run of the metric records
every forward call it makes (the batch shapes, through a recording wrapper
around the module the metric calls); ``floor`` then replays exactly those
calls on preallocated inputs, and ``batched`` runs the metric.  Same model
(the checked frozen TorchScript copy on the CPU, as the suite uses), same
batch sizes, same number of rows; what ``batched`` adds is building the
perturbed inputs, sorting attributions, softmax and the statistics.  The
``batched`` entry's ``extra_info`` carries ``ratio_vs_floor`` (means) and
``ratio_vs_floor_min`` (fastest rounds) and the rows passed.

Workload as ``tests/test_metrics_benchmark.py``: ``XAI_HARNESS_BENCH_MODEL``
(default ``toy_resnet``), 4 images, 3 attribution sets,
``XAI_HARNESS_BENCH_ROUNDS`` (default 3); FaithfulnessCorrelation's pass
cache is cleared before every round.

Timed (marker ``bench``): runs only with ``XAI_HARNESS_BENCH=1`` or ``-m bench``
(skipped otherwise, so ``tox -e tests`` does not pay for it).
"""

import os

import numpy as np
import pytest
import torch

from harness.metrics import MetricInputs, faithfulness, get_metric
from harness.metrics.plain import REFERENCE_OVERRIDES
from harness.models import load_model

pytestmark = pytest.mark.bench  # skipped unless XAI_HARNESS_BENCH=1 or -m bench (tests/conftest.py)


MODEL = os.environ.get("XAI_HARNESS_BENCH_MODEL", "toy_resnet")
ROUNDS = int(os.environ.get("XAI_HARNESS_BENCH_ROUNDS", "2"))
METRICS = ("faithfulness_correlation", "pixel_flipping", "monotonicity_correlation", "road")
_FLOOR: dict[str, tuple[float, float]] = {}


class Recording(torch.nn.Module):
    """Passes calls through to ``inner`` and keeps each input's shape."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        object.__setattr__(self, "inner", inner)
        self.shapes: list[tuple[int, ...]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes.append(tuple(x.shape))
        return self.inner(x)


class RecordedInputs(MetricInputs):
    """MetricInputs whose forward module records its calls (``record`` set) or runs plain."""

    record: Recording | None = None

    def forward_module(self) -> torch.nn.Module:
        module = super().forward_module()
        return module if self.record is None else self.record


@pytest.fixture(scope="module")
def workload():
    model = load_model(MODEL, random_ok=True)
    s = model.cfg.input_size
    g = torch.Generator().manual_seed(0)
    x = (torch.nn.functional.interpolate(torch.rand(4, 3, 8, 8, generator=g), size=s, mode="bilinear") * 2 - 1).numpy()
    with torch.no_grad():
        y = model.module(torch.from_numpy(x)).argmax(1).numpy()
    rng = np.random.default_rng(0)
    sets = {
        "a": rng.standard_normal((4, s, s)).astype(np.float32),
        "b": np.kron(rng.random((4, 8, 8)), np.ones((s // 8, s // 8))).astype(np.float32),
        "random": rng.random((4, s, s)).astype(np.float32),
    }
    return model, x.astype(np.float32), y, sets


@pytest.mark.parametrize("impl", ["floor", "batched"])
@pytest.mark.parametrize("metric", METRICS)
def test_floor(benchmark, workload, metric, impl):
    model, x, y, sets = workload
    cfg, fn = get_metric(metric)
    params = cfg.params(**REFERENCE_OVERRIDES.get(metric, {}))
    inp = RecordedInputs(model.module, x, y, model.cfg.num_classes)
    module = inp.forward_module()
    inp.record = Recording(module)  # one untimed run records the forward calls
    faithfulness._FC_PASSES.clear()
    fn(inp, sets, **params)
    shapes = inp.record.shapes
    inp.record = None
    benchmark.group = f"floor {metric} [{MODEL}, 4 images, {len(sets)} sets]"
    benchmark.extra_info.update(
        metric=metric, impl=impl, rows=sum(s[0] for s in shapes), calls=len(shapes), forward=inp.forward_how
    )
    if impl == "floor":
        g = torch.Generator().manual_seed(0)
        batches = [torch.randn(*s, generator=g) for s in shapes]

        def run():
            with torch.inference_mode():
                return [module(b) for b in batches]

        out = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
        assert len(out) == len(shapes)
    else:
        out = benchmark.pedantic(
            lambda: fn(inp, sets, **params), setup=faithfulness._FC_PASSES.clear, rounds=ROUNDS, warmup_rounds=1
        )
        assert set(out) == set(sets)
    if benchmark.stats is None:
        return
    st = benchmark.stats.stats
    if impl == "floor":
        _FLOOR[metric] = (st.mean, st.min)
    elif metric in _FLOOR:
        benchmark.extra_info["ratio_vs_floor"] = round(st.mean / _FLOOR[metric][0], 3)
        benchmark.extra_info["ratio_vs_floor_min"] = round(st.min / _FLOOR[metric][1], 3)
