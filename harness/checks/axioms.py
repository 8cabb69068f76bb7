"""Completeness of baseline attributions (Integrated Gradients and kin).

Completeness: ``sum(attr) == f(x) - f(x0)`` for the target logit ``f``
and the baseline ``x0``.  IG meets it up to the path-integral's
quadrature error, which shrinks as ``n_steps`` rises; on the hand-weighted
linear toy it is exact, and there IG equals ``(x - x0) * w``.

Which explainers: the tags ``has_baseline`` and ``multiplies_by_inputs``
(:func:`applies`), never names.  Stochastic explainers are left out (completeness holds only in expectation there).
Tolerances are stated here once, relative
to ``|f(x) - f(x0)|`` with an absolute floor in logit units for targets
whose logit barely moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..explainers import create_explainer
from ..explainers.baselines import make_baseline
from .basic import CheckFailure

# Tolerances, stated once.
COMPLETENESS_RTOL = 0.05  # |sum(attr) - gap| <= RTOL * |gap| + ATOL
COMPLETENESS_ATOL = 0.01  # logit units: the floor for targets whose logit barely moves
EXACT_RTOL = 1e-4  # the linear toy: exact up to float32 rounding
EXACT_ATOL = 1e-5
CONVERGENCE_STEPS = (16, 64, 256)  # n_steps ladder for the convergence check
CONVERGENCE_SLACK = 1e-4  # relative: float noise allowed when the error is already at the float floor


def applies(explainer_cfg) -> bool:
    """Completeness is promised, per call, by deterministic explainers that multiply by (x - x0).

    Stochastic ones (GradientSHAP) meet it only in expectation, so they are left out.
    """
    return bool(explainer_cfg.has_baseline and explainer_cfg.multiplies_by_inputs and not explainer_cfg.stochastic)


@dataclass(frozen=True)
class Completeness:
    """Per-image sums, logit gaps and errors of one batch."""

    sums: np.ndarray
    gaps: np.ndarray

    @property
    def errors(self) -> np.ndarray:
        return np.abs(self.sums - self.gaps)

    @property
    def relative(self) -> np.ndarray:
        return self.errors / np.maximum(np.abs(self.gaps), 1e-12)

    def summary(self) -> dict[str, float]:
        return {
            "max_abs_error": float(self.errors.max()),
            "max_rel_error": float(self.relative.max()),
            "median_rel_error": float(np.median(self.relative)),
            "min_abs_gap": float(np.abs(self.gaps).min()),
            "images": len(self.sums),
        }


def logit_gap(model, x: torch.Tensor, x0: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """``f(x) - f(x0)`` of the target logit, per image."""
    with torch.no_grad():
        fx = model(x).gather(1, target[:, None])[:, 0]
        f0 = model(x0).gather(1, target[:, None])[:, 0]
    return (fx - f0).double().cpu().numpy()


def measure(model, explainer, x: torch.Tensor, target: torch.Tensor) -> Completeness:
    """Run ``explainer`` (parameters include ``baseline``) and measure completeness on the batch."""

    target = torch.as_tensor(target, dtype=torch.long, device=x.device).reshape(-1).expand(x.shape[0])
    exp = explainer(model, x, target)
    x0 = make_baseline(x, model.cfg, explainer.param_dict["baseline"])
    sums = exp.attributions.reshape(len(exp.attributions), -1).astype(np.float64).sum(1)
    return Completeness(sums=sums, gaps=logit_gap(model, x, x0, target))


def assert_complete(
    c: Completeness, *, case: str, rtol: float = COMPLETENESS_RTOL, atol: float = COMPLETENESS_ATOL
) -> dict[str, float]:
    """Every image within ``rtol * |gap| + atol``; the message names the worst image."""
    __tracebackhide__ = True
    tol = rtol * np.abs(c.gaps) + atol
    bad = np.flatnonzero(c.errors > tol)
    if bad.size:
        i = int(bad[np.argmax(c.errors[bad] - tol[bad])])
        raise CheckFailure(
            f"completeness: |sum(attr) - (f(x) - f(x0))| = {c.errors[i]:.4g} > {tol[i]:.4g} "
            f"(= {rtol:g} * |{c.gaps[i]:.4g}| + {atol:g}; sum(attr) = {c.sums[i]:.4g}, image {i}, "
            f"{bad.size}/{len(c.sums)} images out) [{case}]"
        )
    return c.summary()


def check_convergence(
    model,
    explainer_name: str,
    x: torch.Tensor,
    target,
    *,
    baseline: str = "black",
    steps: tuple[int, ...] = CONVERGENCE_STEPS,
    case: str,
    measured: dict[int, Completeness] | None = None,
    **params,
) -> dict[int, float]:
    """The completeness error shrinks as ``n_steps`` rises (largest vs smallest), and ends within tolerance.

    ``measured`` holds rungs already run on the same ``x``, target and
    baseline (a suite shares its 256-step run); the others are run here.
    Returns the worst relative error per ``n_steps``.
    """
    __tracebackhide__ = True

    errs: dict[int, float] = {}
    last = None
    for n in steps:
        last = (measured or {}).get(n) or measure(
            model, create_explainer(explainer_name, baseline=baseline, n_steps=n, **params), x, target
        )
        errs[n] = float(last.relative.max())
    lo, hi = steps[0], steps[-1]
    if not errs[hi] <= errs[lo] + CONVERGENCE_SLACK:
        raise CheckFailure(
            f"convergence: relative completeness error at n_steps={hi} is {errs[hi]:.3g}, not below "
            f"{errs[lo]:.3g} at n_steps={lo} (+{CONVERGENCE_SLACK:g} float slack); ladder "
            f"{ {k: round(v, 5) for k, v in errs.items()} } [{case}]"
        )
    if last is None:
        raise ValueError(f"convergence: no n_steps given [{case}]")
    assert_complete(last, case=f"{case}, n_steps={hi}")
    return errs


def check_linear_exact(model, explainer, x: torch.Tensor, target, *, case: str) -> float:
    """On the hand-weighted linear toy, attributions equal ``sum_c (x - x0) * w[target]``; returns max abs error."""
    __tracebackhide__ = True

    target = torch.as_tensor(target, dtype=torch.long).reshape(-1).expand(x.shape[0])
    exp = explainer(model, x, target)
    x0 = make_baseline(x, model.cfg, explainer.param_dict["baseline"])
    w = model.module.weight.detach()[target]
    expected = ((x - x0) * w).sum(1).double().numpy()
    err = np.abs(exp.attributions - expected)
    tol = EXACT_RTOL * np.abs(expected) + EXACT_ATOL
    if (err > tol).any():
        i = np.unravel_index(int(np.argmax(err - tol)), err.shape)
        raise CheckFailure(
            f"linear exactness: |attr - (x - x0) * w| = {err[i]:.3g} > {tol[i]:.3g} at pixel {tuple(map(int, i))} "
            f"(rtol {EXACT_RTOL:g}, atol {EXACT_ATOL:g}) [{case}]"
        )
    return float(err.max())
