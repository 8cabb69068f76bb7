"""Explainer registry and the built-in explainers."""

from . import cam, gradient, perturbation  # noqa: F401  (registration side effects)
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
    "Explainer", "ExplainerCfg", "ExplainerError", "Explanation", "RawExplanation",
    "create_explainer", "get_explainer_cfg", "list_explainers", "register_explainer",
]
