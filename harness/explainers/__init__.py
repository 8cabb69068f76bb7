"""Explainer registry and the built-in explainers."""

# imported for their registration side effects
from . import attention, cam, cam_perturb, gradient, lrp_cnn, lrp_vit, perturbation, smoothing  # noqa: F401
from .registry import (
    Explainer,
    ExplainerCfg,
    ExplainerError,
    Explanation,
    RawExplanation,
    create_explainer,
    get_explainer_cfg,
    list_explainers,
    register_explainer,
)

__all__ = [
    "Explainer",
    "ExplainerCfg",
    "ExplainerError",
    "Explanation",
    "RawExplanation",
    "create_explainer",
    "get_explainer_cfg",
    "list_explainers",
    "register_explainer",
]
