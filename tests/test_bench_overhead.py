"""pytest-benchmark: our explainers against the libraries they wrap, on identical inputs (target <= 1.15x).

Each group times ``reference`` then ``ours`` on the same model, images and
targets; the ``ours`` entry's ``extra_info`` carries ``ratio_vs_reference``
(ratio of the means) and ``ratio_vs_reference_min`` (of the fastest rounds,
the steadier figure on a shared machine).  Ours does a little more by
design: IG also returns Captum's convergence delta (two more forward passes
per image), every explainer checks the ``[B, H, W]`` contract and copies the
map to NumPy.  References:

* Grad-CAM: pytorch-grad-cam's ``GradCAM`` on the same target layer (it
  also min-max scales and resizes each map with OpenCV, which ours does not);
* IG: Captum's ``IntegratedGradients`` with the same steps, method, baseline
  and internal batch;
* KernelSHAP: scikit-image SLIC and Captum's ``KernelShap`` with the same
  samples, seed and baseline, one image at a time, as a user would write it;
* rollout: the plain formula (Abnar & Zuidema) on attention maps captured
  the same way (hooks with timm's fused attention off).

Cheap defaults for CI (``toy_resnet``/``toy_vit`` at 64 px, 2 images, 3
rounds); ``XAI_HARNESS_BENCH_CNN=zoo_resnet XAI_HARNESS_BENCH_VIT=zoo_vit_p16
XAI_HARNESS_BENCH_IMAGES=8 XAI_HARNESS_BENCH_ROUNDS=5`` scales up (``XAI_HARNESS_BENCH_IG_STEPS=50``:
IG at the suite's steps).
``--benchmark-disable`` runs each side once and checks the outputs agree.

Timed (marker ``bench``): runs only with ``XAI_HARNESS_BENCH=1`` or ``-m bench``
(skipped otherwise, so ``tox -e tests`` does not pay for it).
"""

import os

import numpy as np
import pytest
import torch

from harness.explainers import create_explainer
from harness.explainers.attention import attention_capture
from harness.explainers.baselines import make_baseline
from harness.explainers.perturbation import slic_mask
from harness.images.preprocess import denormalize
from harness.models import load_model

pytestmark = pytest.mark.bench  # skipped unless XAI_HARNESS_BENCH=1 or -m bench (tests/conftest.py)


CNN = os.environ.get("XAI_HARNESS_BENCH_CNN", "toy_resnet")
VIT = os.environ.get("XAI_HARNESS_BENCH_VIT", "toy_vit")
IMAGES = int(os.environ.get("XAI_HARNESS_BENCH_IMAGES", "2"))
ROUNDS = int(os.environ.get("XAI_HARNESS_BENCH_ROUNDS", "3"))
# IG's steps: 8 keeps CI short; the suite's default is 50 (``XAI_HARNESS_BENCH_IG_STEPS=50``), where the two
# extra forward passes of the convergence delta weigh less
IG = dict(
    n_steps=int(os.environ.get("XAI_HARNESS_BENCH_IG_STEPS", "8")),
    internal_batch_size=16,
    method="gausslegendre",
    baseline="black",
)
KS = dict(n_samples=24, n_segments=16, compactness=10.0, baseline="black", perturbations_per_eval=20, seed=0)
_REF: dict[str, tuple[float, float]] = {}


@pytest.fixture(scope="module")
def models():
    return {n: load_model(n, device="cpu", random_ok=True) for n in (CNN, VIT)}


def _inputs(model):
    s = model.cfg.input_size
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.interpolate(torch.rand(IMAGES, 3, 8, 8, generator=g), size=s, mode="bilinear") * 2 - 1
    with torch.no_grad():
        t = model.module(x).argmax(1)
    return x, t


def _gradcam(model, x, t):
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    layer = model.module.get_submodule(model.cfg.target_layer(100))
    ours = create_explainer("gradcam")

    def reference():
        with GradCAM(model=model.module, target_layers=[layer]) as cam:
            return cam(input_tensor=x, targets=[ClassifierOutputTarget(int(c)) for c in t])

    return reference, lambda: ours(model, x, t).attributions


def _ig(model, x, t):
    from captum.attr import IntegratedGradients

    ours = create_explainer("ig", **IG)
    p = {k: v for k, v in IG.items() if k != "baseline"}

    def reference():
        x0 = make_baseline(x, model.cfg, "black")
        return IntegratedGradients(model.module).attribute(x, baselines=x0, target=t, **p).sum(1).detach().numpy()

    return reference, lambda: ours(model, x, t).attributions


def _kernelshap(model, x, t):
    from captum.attr import KernelShap

    ours = create_explainer("kernelshap", **KS)

    def reference():
        x0 = make_baseline(x, model.cfg, "black", seed=KS["seed"])
        unit, out = denormalize(x, model.cfg), []
        for i in range(len(x)):
            mask, _ = slic_mask(unit[i], n_segments=KS["n_segments"], compactness=KS["compactness"])
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(KS["seed"])
                attr = KernelShap(model.module).attribute(
                    x[i : i + 1],
                    baselines=x0[i : i + 1],
                    target=t[i : i + 1],
                    feature_mask=mask,
                    n_samples=KS["n_samples"],
                    perturbations_per_eval=KS["perturbations_per_eval"],
                )
            out.append(attr[0, 0].numpy())
        return np.stack(out)

    return reference, lambda: ours(model, x, t).attributions


def _rollout(model, x, t):
    ours = create_explainer("rollout", discard_ratio=0.9)
    cfg = model.cfg

    def reference():  # the textbook loop: mean over heads, drop the smallest 90 %, add I, renormalise, multiply
        with torch.no_grad(), attention_capture(model.module) as maps:
            model.module(x)
        n = maps[0].shape[-1]
        result = torch.eye(n).expand(len(x), n, n).clone()
        for attn in maps:
            fused = attn.mean(dim=1)
            flat = fused.reshape(len(x), -1).clone()
            idx = flat.topk(int(flat.shape[1] * 0.9), dim=1, largest=False).indices
            keep0 = flat[:, 0].clone()
            flat.scatter_(1, idx, 0.0)
            flat[:, 0] = keep0
            a = (flat.view(len(x), n, n) + torch.eye(n)) / 2
            result = (a / a.sum(dim=-1, keepdim=True)) @ result
        p, (h, w) = cfg.num_prefix_tokens, cfg.grid_size
        native = result[:, :p, p:].mean(dim=1).reshape(-1, h, w)
        side = x.shape[-1]
        return torch.nn.functional.interpolate(native[:, None], size=(side, side), mode="bilinear")[:, 0].numpy()

    return reference, lambda: ours(model, x, t).attributions


CASES = {"gradcam": (CNN, _gradcam), "ig": (CNN, _ig), "kernelshap": (CNN, _kernelshap), "rollout": (VIT, _rollout)}


@pytest.mark.parametrize("impl", ["reference", "ours"])
@pytest.mark.parametrize("method", list(CASES))
def test_overhead(benchmark, models, method, impl):
    name, build = CASES[method]
    model = models[name]
    x, t = _inputs(model)
    reference, ours = build(model, x, t)
    benchmark.group = f"overhead {method} [{name}, {IMAGES} images]"
    benchmark.extra_info.update(method=method, impl=impl, model=name, images=IMAGES, threads=torch.get_num_threads())
    out = benchmark.pedantic(ours if impl == "ours" else reference, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert np.asarray(out).shape == (IMAGES, x.shape[-2], x.shape[-1])
    if method in ("ig", "kernelshap", "rollout"):  # the same computation: the same numbers
        np.testing.assert_allclose(np.asarray(out), np.asarray((reference if impl == "ours" else ours)()), atol=1e-5)
    if benchmark.stats is None:
        return
    st = benchmark.stats.stats
    if impl == "reference":
        _REF[method] = (st.mean, st.min)
    elif method in _REF:  # the minimum is the steadier figure on a shared machine
        benchmark.extra_info["ratio_vs_reference"] = round(st.mean / _REF[method][0], 3)
        benchmark.extra_info["ratio_vs_reference_min"] = round(st.min / _REF[method][1], 3)
