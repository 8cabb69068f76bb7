"""pytest-benchmark timings of every explainer on one toy CNN and one toy transformer.

Two rounds each, on one image (64 px; 224 px for the PVT-v2 fallback), so the whole module stays within
seconds; compare runs with ``pytest tests/test_bench_explainers.py
--benchmark-autosave`` and ``pytest-benchmark compare``.  Samples are
reduced for the sampling methods (``FAST``); the registered defaults are
what ``python -m harness list explainers`` states.
"""

import pytest
import torch

from harness.explainers import create_explainer, get_explainer_cfg, list_explainers
from harness.models import get_model_cfg, load_model

MODELS = ("toy_resnet", "toy_vit")
# a transformer for methods that require a GAP + linear head (CAM): the zoo's small PVT-v2 at 224 px
FALLBACK_TRANSFORMER = "zoo_pvt_v2"
FAST = {
    "ig": {"n_steps": 8},
    "kernelshap": {"n_samples": 30},
    "lime": {"n_samples": 30},
    "smoothgrad": {"n_samples": 4},
    "gradientshap": {"n_samples": 4},
}


@pytest.fixture(scope="module")
def loaded():
    return {n: load_model(n, device="cpu") for n in (*MODELS, FALLBACK_TRANSFORMER)}


def _pairs():
    out = []
    for name in list_explainers():
        cfg = get_explainer_cfg(name)
        models = [m for m in MODELS if cfg.supports(get_model_cfg(m))]
        if "toy_vit" not in models and cfg.supports(get_model_cfg(FALLBACK_TRANSFORMER)):
            models.append(FALLBACK_TRANSFORMER)
        out += [pytest.param(name, m, id=f"{name}-{m}") for m in models]
    return out


@pytest.mark.benchmark(group="explainers", min_rounds=2)
@pytest.mark.parametrize(("name", "model"), _pairs())
def test_bench_explainer(benchmark, loaded, name, model):
    explainer = create_explainer(name, **FAST.get(name, {}))
    side = loaded[model].cfg.input_size
    x = torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(0))
    exp = benchmark.pedantic(explainer, args=(loaded[model], x, 1), rounds=2, iterations=1, warmup_rounds=0)
    assert exp.attributions.shape == (1, side, side)
