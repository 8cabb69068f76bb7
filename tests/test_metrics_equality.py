"""Batched metrics equal plain Quantus 0.6.0 on the same inputs and seed (toy models, 64 px).

Tolerances: correlations (FaithfulnessCorrelation, MonotonicityCorrelation)
within 1e-4 absolute; PixelFlipping AUC within 1e-5 relative; ROAD
(fractions of correct classifications) exactly.  The only differences are
float32 reductions in forward passes of other batch sizes.
"""

import numpy as np
import pytest

from conftest import toy_metric_batch
from harness.metrics import MetricInputs, get_metric
from harness.metrics.plain import REFERENCE_OVERRIDES, quantus_scores
from harness.metrics.road import impute
from harness.models import load_model

TOL = {
    "faithfulness_correlation": dict(abs=1e-4, rel=0),
    "monotonicity_correlation": dict(abs=1e-4, rel=0),
    "pixel_flipping": dict(abs=0, rel=1e-5),
    "road": dict(abs=0, rel=0),
}


@pytest.fixture(scope="module", params=["toy_resnet", "toy_vit"])
def setup(request):
    model = load_model(request.param, random_ok=True)
    x, y = toy_metric_batch(model)
    rng = np.random.default_rng(1)
    smooth = np.kron(rng.random((3, 8, 8)), np.ones((8, 8))).astype(np.float32)  # ties, as upsampled CAMs have
    sets = {"noise": rng.standard_normal((3, 64, 64)).astype(np.float32), "blocks": smooth}
    return model, x, y, sets


@pytest.mark.parametrize("metric", sorted(TOL))
def test_batched_equals_plain_quantus(setup, metric):
    model, x, y, sets = setup
    cfg, fn = get_metric(metric)
    params = cfg.params(**REFERENCE_OVERRIDES.get(metric, {}))  # what tests/test_metrics_benchmark.py times
    ours = fn(MetricInputs(model.module, x, y, 10, batch_size=7), sets, **params)
    for name, a in sets.items():
        ref = quantus_scores(metric, model.module, x, y, a, **params)
        assert ours[name] == pytest.approx(ref, **TOL[metric]), (
            f"{metric} on {name} [{model.name}]: batched {ours[name]} vs Quantus {ref} (tolerance {TOL[metric]})"
        )


def test_imputation_equals_quantus():
    from quantus.functions.perturb_func import noisy_linear_imputation

    rng = np.random.default_rng(0)
    x = rng.random((3, 32, 32)).astype(np.float32)
    idx = np.argsort(-rng.random(32 * 32))[:400]
    np.random.seed(3)
    ref = noisy_linear_imputation(arr=x, indices=idx, noise=0.01)
    assert np.array_equal(impute(x, idx, 0.01, np.random.RandomState(3)), ref)


def test_faithfulness_correlation_shares_passes_across_sets(setup):
    """Scoring two sets together equals scoring each alone (the subsets do not depend on the maps)."""
    model, x, y, sets = setup
    cfg, fn = get_metric("faithfulness_correlation")
    inp = MetricInputs(model.module, x, y, 10)
    both = fn(inp, sets, **cfg.params())
    for name, a in sets.items():
        assert both[name] == pytest.approx(fn(inp, {name: a}, **cfg.params())[name], abs=1e-6)
