"""Checks against the wired oracle models (:mod:`harness.models.oracle`), whose right attribution is known.

* :func:`check_exact`: on a linear oracle (``oracle_weight`` buffer, black baseline = 0), the map
  equals a closed form (:data:`EXACT`): IG and Input x Gradient ``sum_c W x``, saliency and
  SmoothGrad ``max_c |W|``, occlusion the window sums of ``sum_c W x``, KernelSHAP the superpixel
  sums of ``sum_c W x``.  On the bias-free ReLU oracle IG (zero baseline) equals Input x Gradient.
* :func:`check_region`: at least ``REGION_MIN_SHARE`` of the ``|attr|`` mass lies on the pixels the
  logit reads (``oracle_region``).
* :func:`check_patches`: the top ``|S|`` tokens of a token explainer's native map are the wired patches.
* :func:`check_cancelling`: on ``oracle_cancel`` the map agrees in sign with the Shapley values
  of the two regions (``+`` on A, ``-`` on B) and each holds ``>= BOTH_MIN_SHARE`` of the mass.

Each returns the measured numbers (recorded for the report) and raises :class:`CheckFailure`
with the case and the tolerance in the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..explainers.perturbation import slic_mask
from ..explainers.registry import Explanation
from .basic import CheckFailure

REGION_MIN_SHARE = 0.95  # share of |attr| on the pixels the target logit reads
BOTH_MIN_SHARE = 0.2  # share of |attr| on each cancelling region (each covers 1/16 of the image)
IXG_RTOL = 1e-5  # IG (zero baseline) vs Input x Gradient on bias-free ReLU nets: float32 rounding
IXG_ATOL = 1e-7


def input_x_gradient(module: torch.nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``sum_c x * d logit_target / dx``, ``[B, H, W]`` (Shrikumar et al. 2016)."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        score = module(xg).gather(1, target[:, None]).sum()
        (g,) = torch.autograd.grad(score, xg)
    return (xg.detach() * g).sum(1)


def _ig(weight: torch.Tensor, x: torch.Tensor, ex: Explanation) -> torch.Tensor:
    return (weight * x).sum(1)


def _saliency(weight: torch.Tensor, x: torch.Tensor, ex: Explanation) -> torch.Tensor:
    return weight.abs().amax(1).expand(x.shape[0], -1, -1)


def _occlusion(weight: torch.Tensor, x: torch.Tensor, ex: Explanation) -> torch.Tensor:
    w, s = ex.extras["window"], ex.extras["stride"]
    if w != s or x.shape[-1] % w:
        raise ValueError(f"occlusion closed form needs tiling windows, got window {w}, stride {s}")
    contrib = (weight * x).sum(1, keepdim=True)
    sums = torch.nn.functional.avg_pool2d(contrib, w) * w * w
    return sums.repeat_interleave(w, dim=2).repeat_interleave(w, dim=3)[:, 0]


def _segment_sums(weight: torch.Tensor, x: torch.Tensor, ex: Explanation) -> torch.Tensor:
    contrib = (weight * x).sum(1)
    out = torch.zeros_like(contrib)
    p = ex.params
    for i in range(x.shape[0]):
        seg = slic_mask(x[i], n_segments=p["n_segments"], compactness=p["compactness"])[0][0, 0]
        for k in seg.unique():
            out[i][seg == k] = contrib[i][seg == k].sum()
    return out


@dataclass(frozen=True)
class ExactRule:
    """The closed-form map of one explainer on a linear oracle, with its tolerance (relative to max |expected|)."""

    expected: Callable[[torch.Tensor, torch.Tensor, Explanation], torch.Tensor]
    rtol: float
    why: str


EXACT: dict[str, ExactRule] = {
    "ig": ExactRule(_ig, 1e-5, "f is linear: every quadrature rule integrates a constant gradient exactly"),
    "saliency": ExactRule(_saliency, 1e-5, "the gradient is the weight"),
    "smoothgrad": ExactRule(_saliency, 1e-5, "noise does not move a constant gradient"),
    "occlusion": ExactRule(_occlusion, 1e-5, "a window's drop is its pixels' sum of W x"),
    "kernelshap": ExactRule(_segment_sums, 1e-2, "Shapley values of a linear game; float32 least squares"),
    "lrp_vit": ExactRule(_ig, 1e-5, "gradient x input of a model linear in the input"),
}


def _fail(msg: str, case: str) -> None:
    __tracebackhide__ = True
    raise CheckFailure(f"{msg} [{case}]")


def check_exact(*, ex: Explanation, weight: torch.Tensor, x: torch.Tensor, case: str) -> dict[str, float]:
    """``max |attr - expected| <= rtol * max |expected|`` with :data:`EXACT`'s rule for ``ex.explainer``."""
    __tracebackhide__ = True
    rule = EXACT[ex.explainer]
    want = rule.expected(weight[None], x, ex).float()
    got = torch.as_tensor(ex.attributions)
    scale = float(want.abs().max())
    err = float((got - want).abs().max())
    out = {"max_abs_error": err, "max_expected": scale, "rel_error": err / scale, "rtol": rule.rtol}
    if err > rule.rtol * scale:
        _fail(f"oracle exact: max |attr - closed form| = {err:.3g} > {rule.rtol:g} * {scale:.3g} ({rule.why})", case)
    return out


def check_ig_equals_ixg(
    *, ig: torch.Tensor, ixg: torch.Tensor, case: str, rtol: float = IXG_RTOL, atol: float = IXG_ATOL
) -> dict[str, float]:
    """IG with the zero baseline equals Input x Gradient on a positively homogeneous (bias-free ReLU) net."""
    __tracebackhide__ = True
    scale = float(ixg.abs().max())
    err = float((ig - ixg).abs().max())
    if err > rtol * scale + atol:
        _fail(f"IG == Input x Gradient: max |IG - IxG| = {err:.3g} > {rtol:g} * {scale:.3g} + {atol:g}", case)
    return {"max_abs_error": err, "max_ixg": scale, "rtol": rtol, "atol": atol}


def region_share(attr: torch.Tensor, region: torch.Tensor) -> float:
    """Share of ``|attr|`` mass (all images) on ``region``; NaN for an all-zero map."""
    mass = attr.abs()
    total = float(mass.sum())
    return float((mass * region).sum()) / total if total > 0 else float("nan")


def check_region(
    *, ex: Explanation, region: torch.Tensor, case: str, min_share: float = REGION_MIN_SHARE
) -> dict[str, float]:
    """At least ``min_share`` of ``|attr|`` lies on the pixels the target logit reads."""
    __tracebackhide__ = True
    share = region_share(torch.as_tensor(ex.attributions), region)
    out = {"share": round(share, 4), "region_area": round(float(region.mean()), 4), "min_share": min_share}
    if not share >= min_share:  # NaN (all-zero map) fails
        _fail(f"oracle region: share of |attr| on the used pixels {share:.3f} < {min_share}", case)
    return out


def check_patches(*, ex: Explanation, patches: torch.Tensor, case: str) -> dict[str, object]:
    """The ``len(patches)`` largest tokens of the native map are exactly the wired ``patches``."""
    __tracebackhide__ = True
    if ex.native is None:
        _fail("oracle patches: the explainer returned no native token map", case)
    native = torch.as_tensor(ex.native).flatten(1)
    k = len(patches)
    want = sorted(int(p) for p in patches)
    tops = [sorted(row.topk(k).indices.tolist()) for row in native]
    inside = native[:, want].min(1).values
    outside = native[:, [j for j in range(native.shape[1]) if j not in want]].max(1).values
    out = {"top": tops[0], "wired": want, "min_wired": float(inside.min()), "max_other": float(outside.max())}
    if any(t != want for t in tops):
        _fail(f"oracle patches: top-{k} tokens {tops[0]} != wired {want}", case)
    return out


def check_cancelling(
    *, ex: Explanation, a: torch.Tensor, b: torch.Tensor, case: str, min_share: float = BOTH_MIN_SHARE
) -> dict[str, float]:
    """Sign agreement with the Shapley values (A > 0 > B) and ``>= min_share`` of ``|attr|`` on each region."""
    __tracebackhide__ = True
    attr = torch.as_tensor(ex.attributions)
    mean_a = float((attr * a).sum() / (a.sum() * attr.shape[0]))
    mean_b = float((attr * b).sum() / (b.sum() * attr.shape[0]))
    share_a, share_b = region_share(attr, a), region_share(attr, b)
    out = {
        "mean_a": round(mean_a, 5),
        "mean_b": round(mean_b, 5),
        "share_a": round(share_a, 4),
        "share_b": round(share_b, 4),
        "min_share": min_share,
    }
    if not (mean_a > 0 > mean_b and share_a >= min_share and share_b >= min_share):
        _fail(
            f"oracle cancelling: mean attr on A {mean_a:.3g}, on B {mean_b:.3g} (Shapley: +, -); "
            f"|attr| share A {share_a:.3f}, B {share_b:.3f} (each >= {min_share})",
            case,
        )
    return out
