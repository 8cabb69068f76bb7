"""Chunks on the device: an injected out-of-memory halves the batch and is recorded; peak memory; step batch."""

import numpy as np
import pytest
import torch

from harness.compute.chunks import ChunkOOM, explain_chunk, step_batch_for
from harness.compute.runner import Runner
from harness.compute.store import Store
from harness.explainers import create_explainer
from harness.explainers.registry import Explainer, ExplainerCfg, RawExplanation
from harness.images import image_folder
from harness.models import load_model


def _oom_above(limit: int, calls: list[int]):
    """Saliency that raises torch's out-of-memory error for batches above ``limit`` (as CUDA would)."""
    saliency = create_explainer("saliency")

    def fn(model, x, target):
        calls.append(len(x))
        if len(x) > limit:
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {len(x)} images (injected)")
        return RawExplanation(attributions=torch.as_tensor(saliency(model, x, target).attributions))

    cfg = ExplainerCfg(name="oom_saliency", title="saliency with injected OOM", group="test", batch=8)
    return Explainer(cfg=cfg, params=(), fn=fn)


def test_injected_oom_halves_the_batch_retries_and_records(tmp_path, image_dir):
    calls: list[int] = []
    model = load_model("toy_resnet", device="cpu")
    x = torch.randn(7, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    target = torch.zeros(7, dtype=torch.long)
    out = explain_chunk(model, _oom_above(2, calls), x, target)
    assert calls[:3] == [7, 4, 2] and out.batch == 2 and out.oom_retries == 2  # batch 8 -> 4 -> 2
    plain = create_explainer("saliency")(model, x, target).attributions
    np.testing.assert_allclose(out.attributions, plain, rtol=1e-5, atol=1e-7)
    assert out.peak_memory_bytes > 0 and out.memory_kind.startswith("rss")

    run = Runner(Store(tmp_path / "store"), image_folder(image_dir), device="cpu")
    res = run.explain("toy_resnet", _oom_above(1, calls))
    assert {m["oom_retries"] for m in res.metas} == {3} and {m["batch"] for m in res.metas} == {1}
    assert all(m["peak_memory_bytes"] > 0 for m in res.metas)
    with pytest.raises(ChunkOOM, match=r"oom_saliency on toy_resnet_random: out of memory on a single image"):
        explain_chunk(model, _oom_above(0, calls), x[:2], target[:2])


def test_other_errors_are_not_retried():
    model = load_model("toy_resnet", device="cpu")

    def fn(model, x, target):
        raise RuntimeError("shape mismatch")

    bad = Explainer(cfg=ExplainerCfg(name="bad", title="bad", group="test"), params=(), fn=fn)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        explain_chunk(model, bad, torch.zeros(2, 3, 64, 64), torch.zeros(2, dtype=torch.long))


def test_step_batch_fits_free_memory():
    gib = 1 << 30
    assert step_batch_for(8 * gib, gib // 10, rows=400) == 48  # 60 % of 8 GiB at 0.1 GiB a row
    assert step_batch_for(8 * gib, gib // 10, rows=20) == 20  # never more rows than there are
    assert step_batch_for(gib // 100, gib, rows=50) == 1


def test_batch_size_per_explainer_and_device():
    ig, gradcam = create_explainer("ig").cfg, create_explainer("gradcam").cfg
    assert (ig.batch_size("cpu"), ig.batch_size("cuda")) == (2, 8)
    assert (gradcam.batch_size("cpu"), gradcam.batch_size("cuda:1")) == (16, 64)
    assert ig.step_batch_param == "internal_batch_size"
