"""Gradient explainers: Saliency and Integrated Gradients (Captum)."""

from __future__ import annotations

import torch

from .baselines import make_baseline
from .registry import ExplainerCfg, RawExplanation, register_explainer


@register_explainer(
    ExplainerCfg(
        name="saliency",
        title="Saliency (|gradient|, max over channels)",
        group="gradient",
        cost="cheap",
        passes="1 forward + 1 backward",
        regression=True,
    )
)
def saliency(model, x: torch.Tensor, target: torch.Tensor) -> RawExplanation:
    from captum.attr import Saliency  # lazy: captum takes ~1 s to import

    attr = Saliency(model.module).attribute(x, target=target, abs=True)
    return RawExplanation(attributions=attr.amax(dim=1))


@register_explainer(
    ExplainerCfg(
        name="ig",
        title="Integrated Gradients (sum over channels)",
        group="gradient",
        multiplies_by_inputs=True,
        has_baseline=True,
        cost="expensive",
        regression=True,
        passes="n_steps forward + n_steps backward (50 by default)",
        defaults=(("baseline", "black"), ("n_steps", 50), ("internal_batch_size", 16), ("method", "gausslegendre")),
        step_batch_param="internal_batch_size",
    )
)
def integrated_gradients(
    model,
    x: torch.Tensor,
    target: torch.Tensor,
    *,
    baseline: str,
    n_steps: int,
    internal_batch_size: int,
    method: str,
) -> RawExplanation:
    """Channels are summed so completeness holds for the 2-D map:
    ``attr.sum() == f(x) - f(x0)`` up to the integration error (``delta``)."""
    from captum.attr import IntegratedGradients  # lazy: captum takes ~1 s to import

    x0 = make_baseline(x, model.cfg, baseline)
    attr, delta = IntegratedGradients(model.module).attribute(
        x,
        baselines=x0,
        target=target,
        n_steps=n_steps,
        method=method,
        internal_batch_size=internal_batch_size,
        return_convergence_delta=True,
    )
    return RawExplanation(attributions=attr.sum(dim=1), extras={"convergence_delta": delta.detach().cpu().tolist()})
