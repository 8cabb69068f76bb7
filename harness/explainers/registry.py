"""Explainer registry with tags.

Each explainer is a plain function ``fn(model, x, target, **params) ->
RawExplanation`` registered with an :class:`ExplainerCfg` of tags.  Callers
get an :class:`Explainer` from :func:`create_explainer`, which merges
defaults, rejects unknown parameters, times the call and enforces the one
output contract: a ``[B, H, W]`` attribution at input resolution.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import Any

import numpy as np
import torch

from ..core.registry import Registry

COST_CLASSES = ("cheap", "moderate", "expensive")
# images per explainer call by cost class (ExplainerCfg.batch / gpu_batch override them)
CPU_BATCH = {"cheap": 16, "moderate": 4, "expensive": 2}
GPU_BATCH = {"cheap": 64, "moderate": 16, "expensive": 8}


@dataclass(frozen=True)
class ExplainerCfg:
    """Tags and defaults of one explainer (flat and frozen, as ModelCfg).

    Attributes
    ----------
    families:
        Model families the method supports; other pairs are deselected.
    multiplies_by_inputs, has_baseline, needs_tokens, needs_layer, stochastic:
        Tags used to choose which checks apply.
    requires:
        Model traits (``ModelCfg.traits``) the method needs.
    regression:
        Gated by committed regression baselines.
    rectified:
        The map passes through a ReLU (the Grad-CAM family), so an all-zero
        map is a legitimate answer where no channel supports the class;
        ``check_not_constant`` then allows a minority of all-zero maps.
    cost:
        ``cheap`` / ``moderate`` / ``expensive``.
    passes:
        Forward/backward passes per image, in words, with the defaults.
    batch, gpu_batch:
        Images per explainer call on the CPU and on a GPU; 0 takes the cost
        class's (:data:`CPU_BATCH`, :data:`GPU_BATCH`).  Out-of-memory halves
        it (``harness.compute.chunks``).
    step_batch_param:
        The parameter that sets how many inputs one internal forward pass
        takes (IG's ``internal_batch_size``); on a GPU it is chosen from free
        memory at call time.  It changes batching only, not the result beyond
        float rounding, so the store key keeps the requested value.
    defaults:
        Default parameters as ``(name, value)`` pairs.
    version:
        Bumped whenever the implementation's output changes; part of the
        store key, so a change never reuses stale explanations.
    dists:
        Distributions beyond :func:`harness.compute.store.library_versions` whose
        upgrade can change the output (``("zennit",)``); their versions join
        the store key (:func:`explainer_dist_versions`), so an explanation
        computed under another version is never reused.
    """

    name: str
    title: str
    group: str
    families: tuple[str, ...] = ("cnn", "transformer", "hybrid")
    multiplies_by_inputs: bool = False
    has_baseline: bool = False
    needs_tokens: bool = False
    needs_layer: bool = False
    stochastic: bool = False
    requires: tuple[str, ...] = ()
    regression: bool = False
    rectified: bool = False
    cost: str = "cheap"
    passes: str = ""
    defaults: tuple[tuple[str, Any], ...] = ()
    version: str = "1"
    batch: int = 0
    gpu_batch: int = 0
    step_batch_param: str = ""
    dists: tuple[str, ...] = ()

    def batch_size(self, device: str = "cpu") -> int:
        """Images per call on ``device`` (a torch device or its type)."""
        if str(device).startswith("cuda"):
            return self.gpu_batch or GPU_BATCH[self.cost]
        return self.batch or CPU_BATCH[self.cost]

    def supports(self, model) -> bool:
        """Whether the method applies to ``model`` (a ``ModelCfg``): family, token layout and traits.

        This is the one support test; the suite layer's ``supports(model_cfg,
        explainer_cfg)`` calls it for every case generator."""
        if model.family not in self.families:
            return False
        if self.needs_tokens and model.layout != "tokens":
            return False
        return set(self.requires) <= set(getattr(model, "traits", ()))

    @property
    def tags(self) -> dict[str, Any]:
        return {
            "families": list(self.families),
            "multiplies_by_inputs": self.multiplies_by_inputs,
            "has_baseline": self.has_baseline,
            "needs_tokens": self.needs_tokens,
            "needs_layer": self.needs_layer,
            "stochastic": self.stochastic,
            "requires": list(self.requires),
            "regression": self.regression,
            "rectified": self.rectified,
            "cost": self.cost,
        }


@dataclass
class RawExplanation:
    """What an explainer function returns before the contract is checked."""

    attributions: torch.Tensor  # [B, H, W]
    native: torch.Tensor | None = None  # [B, h, w] before upsampling, when different
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Explanation:
    """Attributions for a batch, with the metadata every explainer reports."""

    attributions: np.ndarray  # float32 [B, H, W] at input resolution
    targets: np.ndarray  # int64 [B]
    native: np.ndarray | None
    native_resolution: tuple[int, int]
    explainer: str
    params: dict[str, Any]
    seconds: float
    extras: dict[str, Any] = field(default_factory=dict)


class ExplainerError(RuntimeError):
    """An explainer broke its output contract or was misconfigured."""


ExplainerFn = Callable[..., RawExplanation]
EXPLAINERS: Registry[tuple[ExplainerCfg, ExplainerFn]] = Registry(
    "explainer", hint="see `python -m harness list explainers`"
)


def register_explainer(cfg: ExplainerCfg):
    """Decorator registering ``fn`` under ``cfg.name``."""
    if cfg.cost not in COST_CLASSES:
        raise ValueError(f"{cfg.name}: cost must be one of {COST_CLASSES}")

    def deco(fn: ExplainerFn) -> ExplainerFn:
        EXPLAINERS.add(cfg.name, (cfg, fn))
        return fn

    return deco


def list_explainers(filter: str = "*", *, family: str | None = None) -> list[str]:
    return EXPLAINERS.names(filter, where=lambda e: family is None or family in e[0].families)


def get_explainer_cfg(name: str) -> ExplainerCfg:
    return EXPLAINERS.get(name)[0]


@dataclass(frozen=True)
class Explainer:
    """A configured explainer: ``explainer(model, x, target) -> Explanation``."""

    cfg: ExplainerCfg
    params: tuple[tuple[str, Any], ...]
    fn: Callable[..., RawExplanation] = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.cfg.name

    @property
    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)

    def __call__(self, model, x: torch.Tensor, target: torch.Tensor | int | list[int]) -> Explanation:
        target = _as_target(target, x.shape[0], x.device)
        start = time.perf_counter()
        raw = self.fn(model, x, target, **self.param_dict)
        seconds = time.perf_counter() - start
        attr = raw.attributions.detach()
        want = (x.shape[0], x.shape[-2], x.shape[-1])
        if tuple(attr.shape) != want:
            raise ExplainerError(
                f"{self.name} on {getattr(model, 'label', model)}: attribution shape "
                f"{tuple(attr.shape)}, expected {want} (the [B, H, W] contract)"
            )
        native = raw.native.detach().float().cpu().numpy() if raw.native is not None else None
        return Explanation(
            attributions=attr.float().cpu().numpy(),
            targets=target.cpu().numpy().astype(np.int64),
            native=native,
            native_resolution=tuple(native.shape[-2:]) if native is not None else want[1:],
            explainer=self.name,
            params=self.param_dict,
            seconds=seconds,
            extras=raw.extras,
        )


def _as_target(target, batch: int, device) -> torch.Tensor:
    t = torch.as_tensor(target, dtype=torch.long, device=device).reshape(-1)
    if t.numel() == 1 and batch > 1:
        t = t.expand(batch)
    if t.numel() != batch:
        raise ExplainerError(f"{t.numel()} targets for a batch of {batch}")
    return t


def _own_dist(fn: Callable[..., Any]) -> str | None:
    """The installed distribution that provides ``fn``'s module when it is not the harness (a plugin)."""
    top = (getattr(fn, "__module__", "") or "").partition(".")[0]
    if not top or top == "harness":
        return None
    dists = _packages_distributions().get(top, [])
    return dists[0] if dists else None


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    return dict(packages_distributions())


def explainer_dist_versions(explainer: Explainer) -> dict[str, str]:
    """Versions of the distributions an explainer depends on beyond the store's library versions:
    its declared ``dists`` and the plugin distribution that registered it (empty for most built-ins)."""

    names = list(explainer.cfg.dists)
    own = _own_dist(explainer.fn)
    if own is not None:
        names.append(own)
    out = {}
    for dist in dict.fromkeys(names):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "absent"
    return out


def create_explainer(name: str, **params: Any) -> Explainer:
    """Build a registered explainer; unknown parameters are an error."""
    cfg = get_explainer_cfg(name)
    fn = EXPLAINERS.get(name)[1]
    defaults = dict(cfg.defaults)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ExplainerError(f"{name}: unknown parameter(s) {unknown}; known: {sorted(defaults)}")
    merged = {**defaults, **params}
    return Explainer(cfg=cfg, params=tuple(sorted(merged.items())), fn=fn)
