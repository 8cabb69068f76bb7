"""What makes the metric suite cheaper must not change its answers.

* Every metric scores each attribution set on its own, so a stored control
  can stand in for recomputing it next to another explainer.
* :func:`~harness.metrics.forward.inference_module`: the frozen copy gives
  the eager logits, follows in-place weight changes, and falls back to the
  eager module (with the reason) when the traced graph does not match.
"""

import numpy as np
import pytest
import torch

from conftest import toy_metric_batch
from harness.compute.store import Store
from harness.metrics import MetricInputs, get_metric, list_metrics
from harness.metrics.evaluate import CONTROL, KIND, evaluate_case
from harness.metrics.forward import FREEZE_ENV, inference_module, logits
from harness.models import load_model


@pytest.fixture(scope="module")
def toy():
    model = load_model("toy_resnet", random_ok=True)
    x, y = toy_metric_batch(model)
    rng = np.random.default_rng(5)
    sets = {
        "a": rng.standard_normal((3, 64, 64)).astype(np.float32),
        "b": np.kron(rng.random((3, 8, 8)), np.ones((8, 8))).astype(np.float32),
    }
    return model, x, y, sets


def _inputs(model, x, y, sets):
    masks = np.zeros((len(x), 64, 64), bool)
    masks[:, 16:40, 20:44] = True
    fixed = {k: (lambda t, _a=v: _a[:, ::-1].copy()) for k, v in sets.items()}
    on_model = {k: (lambda m, _a=v: _a.transpose(0, 2, 1).copy()) for k, v in sets.items()}
    return MetricInputs(model.module, x, y, 10, masks=masks, explain=fixed, explain_model=on_model)


@pytest.mark.parametrize("metric", list_metrics())
def test_each_set_is_scored_on_its_own(toy, metric):
    model, x, y, sets = toy
    cfg, fn = get_metric(metric)
    both = fn(_inputs(model, x, y, sets), sets, **cfg.params())
    for name, a in sets.items():
        alone = fn(_inputs(model, x, y, sets), {name: a}, **cfg.params())[name]
        np.testing.assert_allclose(
            alone,
            both[name],
            rtol=1e-6,
            atol=1e-9,
            equal_nan=True,
            err_msg=f"{metric}: set {name!r} scores differently next to another set",
        )


def test_stored_control_is_reused_with_the_same_answer(toy, tmp_path):
    model, x, y, sets = toy
    store = Store(tmp_path)
    base = {"model": "toy_resnet", "arch": "toy", "weights": "w"}
    inp = MetricInputs(model.module, x, y, 10)
    first = evaluate_case(inp, sets["a"], "pixel_flipping", store=store, base=base, explainer="a")
    second = evaluate_case(inp, sets["b"], "pixel_flipping", store=store, base=base, explainer="b")
    fresh = evaluate_case(inp, sets["b"], "pixel_flipping", store=None, base=base, explainer="b")
    np.testing.assert_array_equal(second.control, first.control)
    np.testing.assert_allclose(second.control, fresh.control, rtol=1e-6)
    np.testing.assert_allclose(second.scores, fresh.scores, rtol=1e-6)
    metas = {e.fields["explainer"]: e.meta for e in store.entries(KIND)}
    assert set(metas) == {"a", "b", CONTROL}
    assert metas["b"]["control_reused"] and not metas["a"]["control_reused"]
    assert metas["a"]["forward"].startswith("frozen")


def test_frozen_module_matches_eager_and_follows_weight_changes(toy, monkeypatch):
    monkeypatch.delenv(FREEZE_ENV, raising=False)
    model, x, y, _ = toy
    module = load_model("toy_resnet", random_ok=True).module
    frozen, how = inference_module(module, x, batch_size=4)
    assert frozen is not module and how.startswith("frozen"), how
    np.testing.assert_allclose(logits(frozen, x), logits(module, x), rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        next(module.parameters()).mul_(-1.0)  # in place: the cached copy is stale now
    again, _ = inference_module(module, x, batch_size=4)
    assert again is not frozen
    np.testing.assert_allclose(logits(again, x), logits(module, x), rtol=1e-4, atol=1e-5)


class BatchDependent(torch.nn.Module):
    """Traces to the probe's batch size branch, so the frozen copy is wrong at batch 1."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x):
        z = self.lin(x.mean(dim=(2, 3)))
        return z if x.shape[0] == 1 else z * 2.0


def test_mismatching_trace_falls_back_to_eager(monkeypatch):
    monkeypatch.delenv(FREEZE_ENV, raising=False)
    module = BatchDependent().eval()
    x = np.random.default_rng(0).standard_normal((4, 3, 8, 8)).astype(np.float32)
    used, how = inference_module(module, x, batch_size=4)
    assert used is module and "differs" in how, how


def test_switched_off(monkeypatch, toy):
    monkeypatch.setenv(FREEZE_ENV, "0")
    model, x, y, _ = toy
    used, how = inference_module(model.module, x)
    assert used is model.module and FREEZE_ENV in how


def test_faithfulness_correlation_reuses_its_passes_across_calls(toy):
    """The model's next explainer costs no forward passes and gets the answer a fresh computation gives."""
    from harness.metrics import faithfulness

    model, x, y, sets = toy
    cfg, fn = get_metric("faithfulness_correlation")
    calls = []
    handle = model.module.register_forward_hook(lambda *a: calls.append(1))
    try:
        faithfulness._FC_PASSES.clear()
        fn(MetricInputs(model.module, x, y, 10, freeze=False), {"a": sets["a"]}, **cfg.params())
        first = len(calls)
        again = fn(MetricInputs(model.module, x, y, 10, freeze=False), {"b": sets["b"]}, **cfg.params())["b"]
        assert first > 0 and len(calls) == first, "the second explainer ran forward passes again"
        faithfulness._FC_PASSES.clear()
        fresh = fn(MetricInputs(model.module, x, y, 10, freeze=False), {"b": sets["b"]}, **cfg.params())["b"]
        np.testing.assert_array_equal(again, fresh)
        other_x = fn(
            MetricInputs(model.module, x[::-1].copy(), y[::-1].copy(), 10, freeze=False),
            {"b": sets["b"]},
            **cfg.params(),
        )
        assert len(calls) > 2 * first, "other inputs must not hit the cache"
        assert np.all(np.isfinite(other_x["b"]))
    finally:
        handle.remove()
