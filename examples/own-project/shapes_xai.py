"""Our own explainer: input x gradient, one function and its ExplainerCfg.

Its tags (``multiplies_by_inputs``, families) decide which of the harness's checks apply to it.
"""

import torch

from harness.explainers import ExplainerCfg, RawExplanation, register_explainer


@register_explainer(
    ExplainerCfg(name="input_x_grad", title="Input x gradient", group="gradient", multiplies_by_inputs=True)
)
def input_x_grad(model, x: torch.Tensor, target: torch.Tensor) -> RawExplanation:
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        score = model(x).gather(1, target[:, None]).sum()
        (grad,) = torch.autograd.grad(score, x)
    return RawExplanation(attributions=(grad * x).sum(1).detach())
