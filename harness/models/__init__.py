"""Model registry: configs, weight resolution and loading."""

from . import oracle, packaged, study, toy, zoo  # noqa: F401  (registration side effects)
from .config import DEPTHS, FAMILIES, ModelCfg
from .from_timm import UnderivableConfig, from_timm
from .loading import LoadedModel, WeightsLoadError, load_model, pick_device
from .registry import (
    UnknownModelError,
    add_lazy_model,
    add_model,
    get_model_cfg,
    is_registered,
    list_models,
    register_model,
)
from .study import STUDY_NAMES
from .weights import WeightsOptions, WeightsSource, WeightsUnavailable, resolve_weights

__all__ = [
    "DEPTHS",
    "FAMILIES",
    "STUDY_NAMES",
    "LoadedModel",
    "ModelCfg",
    "UnderivableConfig",
    "UnknownModelError",
    "WeightsLoadError",
    "WeightsOptions",
    "WeightsSource",
    "WeightsUnavailable",
    "add_lazy_model",
    "add_model",
    "from_timm",
    "get_model_cfg",
    "is_registered",
    "list_models",
    "load_model",
    "pick_device",
    "register_model",
    "resolve_weights",
]
