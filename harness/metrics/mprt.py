"""MPRT (Adebayo et al. 2018): do the maps change when the model's weights are randomised?

The harness follows Quantus 0.6.0's ``MPRT`` with ``skip_layers=True,
return_last_correlation=True``: one explanation of each image on the
**fully randomised** model, compared with the stored map of the trained
model by Spearman rank correlation (``correlation_spearman``, Quantus's
default ``similarity_func``).  Lower is better: a map that survives the loss
of every learned weight does not explain the model.

Randomisation is Quantus's ``PyTorchModel.get_random_layer_generator``:
a deep copy of the module, then ``reset_parameters()`` of every submodule
that has one (top-down), each after ``torch.manual_seed(seed + 1)``.
Only Quantus's default ``top_down`` cascade is offered: its
``independent`` order ends with a single layer reset, and ``bottom_up``
can end elsewhere where a module's ``reset_parameters`` re-initialises a
child's (``nn.MultiheadAttention``).  Parameters that
live outside such submodules (a ViT's ``pos_embed`` and ``cls_token``)
stay trained, as in Quantus.  The global torch RNG is restored afterwards.

What the harness skips: Quantus re-explains the trained model ("original")
and, without ``skip_layers``, every intermediate cascade step (one
explanation per layer with ``reset_parameters``: 60+ on a ResNet-18); the
last-correlation score reads neither.  So MPRT costs one explanation of the
case's first N images on a copy of the model: measured on zoo_resnet (4
images, 2 shared CPU cores) Saliency 0.8 s, Grad-CAM 6.6 s, IG 24 s,
KernelSHAP 39 s.  So by default it runs on the zoo and toy models with
cheap and moderate explainers (``sources``, ``max_cost``);
``--harness-metric-optin mprt`` adds IG, KernelSHAP and the other models
with weights.  :func:`mprt_reference` runs
Quantus's own ``MPRT`` for the equality test (tests/test_metrics_mprt.py).

**Random control.** A random map does not depend on the model, so the
control's "explanation" of the randomised model is the same seeded map as
of the trained one (:attr:`MetricInputs.explain_model`): similarity 1, the
worst score, by construction.  The control stands for any model-independent
explainer (an edge detector); beating it shows only that the maps depend on
the weights at all, not that they depend on them enough.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import scipy.stats
import torch

from .inputs import QUANTUS_BATCH, MetricInputs, quantus_prepare
from .registry import MetricCfg, register_metric

CASCADES = ("top_down",)
CONTROL_NOTE = (
    "model-independent maps (the same seeded random maps for the trained and the randomised model): "
    "similarity 1 by construction; beating it shows only that the maps depend on the weights"
)


def randomised(module: torch.nn.Module, *, seed: int, layer_order: str = "top_down") -> torch.nn.Module:
    """A copy of ``module`` with every ``reset_parameters`` submodule reset, as Quantus's cascade ends."""
    if layer_order not in CASCADES:
        raise ValueError(
            f"mprt: layer_order must be one of {CASCADES} (the fully randomised model), not {layer_order!r}"
        )
    out = copy.deepcopy(module)
    layers = [m for _, m in out.named_modules() if hasattr(m, "reset_parameters")][::-1]  # top-down
    devices = [p.device for p in out.parameters() if p.device.type == "cuda"][:1]
    with torch.random.fork_rng(devices=devices):
        for m in layers:
            torch.manual_seed(seed + 1)
            m.reset_parameters()
    return out.eval()


def _similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image Spearman correlation, as Quantus's ``correlation_spearman`` in its chunks of 64.

    scipy's batched ``spearmanr`` returns one scalar NaN when any map is
    constant (an all-zero Grad-CAM of a randomised model), where Quantus then
    raises ``AttributeError``; such a chunk is scored image by image instead,
    NaN for the constant maps (the leaderboard's means skip NaN).
    """
    from quantus.functions.similarity_func import correlation_spearman  # lazy: quantus takes ~5 s to import

    n = len(a)
    a, b = a.reshape(n, -1), b.reshape(n, -1)
    out = []
    for i in range(0, n, QUANTUS_BATCH):
        ca, cb = a[i : i + QUANTUS_BATCH], b[i : i + QUANTUS_BATCH]
        constant = (ca.min(1) == ca.max(1)) | (cb.min(1) == cb.max(1))
        if not constant.any():
            out.append(np.atleast_1d(correlation_spearman(a=ca, b=cb, batched=True)))
        else:
            out.append(np.array([np.nan if c else scipy.stats.spearmanr(u, v)[0] for u, v, c in zip(ca, cb, constant)]))
    return np.concatenate(out).astype(float)


@register_metric(
    MetricCfg(
        name="mprt",
        title="quantus.MPRT (last correlation, fully randomised model)",
        category="randomisation",
        higher_is_better=False,
        sources=("zoo", "toy"),
        max_cost="moderate",
        control=CONTROL_NOTE,
        defaults=(("seed", 42), ("layer_order", "top_down"), ("abs", True), ("normalise", True)),
    )
)
def mprt(
    inp: MetricInputs, sets: dict[str, np.ndarray], *, seed: int, layer_order: str, abs: bool, normalise: bool
) -> dict[str, np.ndarray]:
    if not inp.explain_model:
        raise ValueError("mprt needs MetricInputs.explain_model")
    module = randomised(inp.module, seed=seed, layer_order=layer_order)
    out = {}
    for name, a in sets.items():
        a_rand = np.asarray(inp.explain_model[name](module), dtype=np.float32)
        if a_rand.shape != a.shape:
            raise ValueError(f"mprt: {name} gave maps of shape {a_rand.shape} on the randomised model, not {a.shape}")
        out[name] = _similarity(
            quantus_prepare(a, normalise=normalise, abs=abs), quantus_prepare(a_rand, normalise=normalise, abs=abs)
        )
    return out


def mprt_reference(
    module: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    a: np.ndarray,
    explain_func,
    *,
    seed: int,
    layer_order: str,
    abs: bool,
    normalise: bool,
) -> np.ndarray:
    """Plain ``quantus.MPRT`` (last correlation) on ``[N, H, W]`` maps; ``explain_func(model, inputs, targets)``."""

    import quantus  # lazy: quantus takes ~5 s to import

    metric = quantus.MPRT(
        layer_order=layer_order,
        seed=seed,
        skip_layers=True,
        return_last_correlation=True,
        abs=abs,
        normalise=normalise,
        disable_warnings=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(
            metric(
                model=module,
                x_batch=x,
                y_batch=y,
                a_batch=a[:, None].astype(np.float32),
                explain_func=explain_func,
                device="cpu",
                channel_first=True,
            ),
            dtype=float,
        )
