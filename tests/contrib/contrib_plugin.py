"""What docs/contributing.md adds, one of each: a model, an explainer, a check and a metric.

Loaded as a pytest plugin (``-p contrib_plugin``) by tests/test_contributing.py, which collects the
real suites and checks that each addition shows up wherever a built-in entry of the same kind does.
"""

import dataclasses

import numpy as np
import torch

from harness.checks import CheckSpec, register_check
from harness.explainers import RawExplanation, get_explainer_cfg, register_explainer
from harness.metrics import MetricCfg, register_metric
from harness.models import add_lazy_model, from_timm

# A model: a timm architecture, registered by name (weights come from --harness-weights, as for any model).
add_lazy_model("contrib_vit", lambda: from_timm("vit_tiny_patch16_224", name="contrib_vit"))


# An explainer: saliency's tags under a new name, so it applies wherever saliency does.
@register_explainer(dataclasses.replace(get_explainer_cfg("saliency"), name="contrib_grad", title="Contributed"))
def contrib_grad(model, x, target):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).gather(1, target[:, None]).sum(), x)
    return RawExplanation(attributions=grad.abs().amax(1))


# A check on the case's stored maps: every (model, explainer) case gets it.
def check_contrib_mass(result, runner):
    share = float(np.mean(result.attributions >= 0))
    assert share > 0, f"no non-negative attribution at all [{result.explainer} on {result.model}]"
    return share


register_check(CheckSpec("check_contrib_mass", "explanations", check_contrib_mass))


# A metric: the spread of each map, beside the random-attribution control.
@register_metric(MetricCfg(name="contrib_spread", title="map spread", category="complexity", higher_is_better=False))
def contrib_spread(inp, sets, **params):
    return {name: maps.reshape(len(maps), -1).std(1) for name, maps in sets.items()}
