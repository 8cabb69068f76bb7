"""Model-randomisation sanity check (Adebayo et al., 2018), cascading from the top.

The parameters are re-initialised stage by stage, from the classifier head
down to the stem, with cut points at the config's target layers
(head, 100 %, 75 %, 50 %, 25 % depth).  After each step the explanation of
the same images for the same targets is compared with the original by the
Spearman rank correlation of the absolute maps (mean over images).  An
explainer that reflects the model must move away from its original map; one
whose similarity stays above ``1 - MIN_DROP`` after the whole model is
randomised is flagged.  Re-initialisation is seeded from the case.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from scipy.stats import spearmanr

from ..models import LoadedModel
from .basic import CheckFailure

MIN_DROP = 0.3  # fully randomised, the mean Spearman similarity must fall below 1 - MIN_DROP
STAGES = ("head", "100%", "75%", "50%", "25%")


def _param_leaves(module: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    return [(n, m) for n, m in module.named_modules() if any(True for _ in m.parameters(recurse=False))]


def cascade_groups(module: torch.nn.Module, target_layers: tuple[str, ...]) -> list[list[torch.nn.Module]]:
    """Leaf modules with parameters, split top-down at the target layers: [head, ..., stem-to-25 %]."""
    leaves = _param_leaves(module)
    ends = []
    for layer in target_layers:
        idx = [i for i, (n, _) in enumerate(leaves) if n == layer or n.startswith(layer + ".")]
        ends.append(max(idx) if idx else -1)
    cuts = [-1] + sorted(set(ends)) + [len(leaves) - 1]
    groups = [[m for _, m in leaves[a + 1 : b + 1]] for a, b in zip(cuts, cuts[1:])]
    return [g for g in reversed(groups) if g]


def _reinit(mod: torch.nn.Module) -> None:
    reset = getattr(mod, "reset_parameters", None)
    if callable(reset):
        reset()
    else:
        for p in mod.parameters(recurse=False):
            torch.nn.init.normal_(p, std=0.02)
    for p in mod.parameters(recurse=False):  # LayerNorm/BatchNorm reset to identity: perturb them too
        if torch.all(p == p.flatten()[0]):
            torch.nn.init.normal_(p, mean=float(p.flatten()[0]), std=0.5)


def rank_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over images of the Spearman correlation of ``|a|`` and ``|b|`` (constant maps count as 0)."""

    out = []
    for x, y in zip(np.abs(a).reshape(len(a), -1), np.abs(b).reshape(len(b), -1)):
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            out.append(0.0)
        else:
            out.append(float(spearmanr(x, y).statistic))
    return float(np.mean(out))


def randomisation_curve(model, explainer, x: torch.Tensor, target: torch.Tensor, *, seed: int) -> list[float]:
    """Similarity to the original after each cascading step (first entry: the original, 1.0)."""

    original = explainer(model, x, target).attributions
    module = copy.deepcopy(model.module)
    randomised = LoadedModel(cfg=model.cfg, module=module, weights=model.weights, device=model.device)
    curve = [1.0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for group in cascade_groups(module, model.cfg.target_layers):
            with torch.no_grad():
                for mod in group:
                    _reinit(mod)
            module.eval()
            curve.append(rank_similarity(original, explainer(randomised, x, target).attributions))
    return curve


def check_randomisation(
    model, explainer, x: torch.Tensor, target: torch.Tensor, *, seed: int, min_drop: float = MIN_DROP
) -> list[float]:
    """Fails when the fully randomised model's explanation is still ``>= 1 - min_drop`` similar."""
    __tracebackhide__ = True
    curve = randomisation_curve(model, explainer, x, target, seed=seed)
    if not curve[-1] < 1 - min_drop:
        raise CheckFailure(
            f"randomisation: Spearman similarity to the original map is {curve[-1]:.3f} >= {1 - min_drop:.2f} "
            f"after randomising every layer (curve {[round(c, 3) for c in curve]}): the explainer ignores the "
            f"model [{explainer.name} on {model.label}]"
        )
    return curve
