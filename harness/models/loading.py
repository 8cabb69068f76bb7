"""Build a registered model and load its resolved weights.

A model without real weights is never silently random: :func:`load_model`
raises :class:`~harness.models.weights.WeightsUnavailable` unless the caller
passes ``random_ok=True``, and then the result says so in ``label`` and
``weights.kind``.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import nn

from .adapters import Adapted, build_adapted, is_adapter
from .config import ModelCfg
from .oracle import ORACLE_BUILDERS
from .packaged import remap_in_order
from .registry import get_model_cfg
from .toy import TOY_BUILDERS
from .weights import WeightsOptions, WeightsSource, WeightsUnavailable, resolve_weights

RANDOM_SEED = 0


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` means CUDA when present, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclass
class LoadedModel:
    """A model ready to explain: module in eval mode, its config and weights."""

    cfg: ModelCfg
    module: nn.Module
    weights: WeightsSource
    device: torch.device

    @property
    def name(self) -> str:
        return self.cfg.name

    @property
    def label(self) -> str:
        """Name used in ids and reports; random weights are always marked."""
        return f"{self.cfg.name}_random" if self.weights.is_random else self.cfg.name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


def build_module(cfg: ModelCfg, *, pretrained_file: Path | None = None) -> nn.Module:
    """Instantiate the architecture; with ``pretrained_file``, via timm's own loader."""
    kwargs: dict[str, Any] = dict(cfg.create_kwargs)
    if cfg.arch in TOY_BUILDERS:
        return TOY_BUILDERS[cfg.arch](**kwargs)
    if cfg.arch in ORACLE_BUILDERS:
        return ORACLE_BUILDERS[cfg.arch](**kwargs)
    if is_adapter(cfg.arch):  # torchvision:NAME, transformers:CLASS
        return build_adapted(cfg.arch, **kwargs)
    import timm  # lazy: timm takes ~3 s to import

    if pretrained_file is not None:
        return timm.create_model(
            cfg.arch,
            pretrained=True,
            pretrained_cfg_overlay=dict(file=str(pretrained_file), num_classes=cfg.num_classes),
            **kwargs,
        )
    return timm.create_model(cfg.arch, pretrained=False, **kwargs)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict):
        for key in ("state_dict", "model"):  # a training checkpoint that wraps the state dict
            if isinstance(state.get(key), dict):
                return state[key]
    return state


class WeightsLoadError(RuntimeError):
    """A weights file was found but does not load into the model; names both."""


# torch's own wording ("Unsupported global: GLOBAL x") and timm's ("Unsupported globals: x, y").
_UNSUPPORTED_GLOBAL = re.compile(r"Unsupported globals?: (?:GLOBAL )?([\w.]+(?:, [\w.]+)*)")
_REFUSED = ("Weights only load failed", "weights_only=True blocked")


def _load_failure_reason(exc: BaseException) -> str:
    """Why loading failed, in one line: a refused pickle says what it holds, not torch's advice text."""
    if isinstance(exc, pickle.UnpicklingError) or any(r in str(exc) for r in _REFUSED):
        found = _UNSUPPORTED_GLOBAL.search(str(exc))
        what = f"it holds `{found.group(1)}`" if found else "it holds objects other than tensors"
        return (
            f"refused: a pickle that is not a plain state dict ({what}); torch.load(weights_only=True) "
            "does not run code from a weights file. Re-save the state dict with "
            "safetensors.torch.save_file, or torch.save(model.state_dict(), path), from a trusted copy"
        )
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    first = " ".join(lines[:3])  # load_state_dict's first line is only "Error(s) in loading state_dict for X:"
    return f"{type(exc).__name__}: {first}"[:500]


def _load_file(cfg: ModelCfg, source: WeightsSource) -> nn.Module:
    if source.path is None:
        raise ValueError(f"{cfg.name}: {source.kind} weights have no file to load")
    if source.kind in ("package", "zoo", "checkpoint") or is_adapter(cfg.arch):
        module = build_module(cfg)
        state = _read_state_dict(source.path)
        if not isinstance(state, dict):
            raise TypeError(f"the file holds a {type(state).__name__}, not a state dict")
        if source.kind == "package":
            state = remap_in_order(state, module.state_dict(), model=cfg.name)
        if source.kind == "checkpoint":
            state = {k.removeprefix("module."): v for k, v in state.items()}  # saved from DataParallel
        if isinstance(module, Adapted):  # the foreign model's own state dict
            module.model.load_state_dict(state)
            return module
        module.load_state_dict(state)
        return module
    return build_module(cfg, pretrained_file=source.path)


def random_weights(cfg: ModelCfg) -> WeightsSource:
    """The declared random initialisation of ``cfg`` (seeded; its hash names the seed)."""
    return WeightsSource(kind="random", path=None, sha256=f"random:{cfg.arch}:seed{RANDOM_SEED}")


def load_model(
    model: str | ModelCfg,
    *,
    weights: WeightsOptions | None = None,
    random_ok: bool = False,
    pretrained: bool = True,
    device: str | torch.device = "auto",
) -> LoadedModel:
    """Build ``model`` with its real weights, or declared random ones.

    ``random_ok`` falls back to random weights when none are found;
    ``pretrained=False`` always uses random weights (for checks that do not
    depend on them).  Either way ``label`` ends in ``_random``.
    """
    cfg = get_model_cfg(model) if isinstance(model, str) else model
    random = random_weights(cfg)
    try:
        source = resolve_weights(cfg, weights) if pretrained else random
    except WeightsUnavailable:
        if not random_ok:
            raise
        source = random

    if source.path is None:  # random or hand-set: deterministic initialisation
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_SEED)
            module = build_module(cfg)
    else:
        try:
            module = _load_file(cfg, source)
        except Exception as exc:  # corrupt file, wrong architecture, truncated download...
            raise WeightsLoadError(
                f"{cfg.name}: cannot load weights from {source.path}: {_load_failure_reason(exc)}"
            ) from exc
    dev = pick_device(device)
    module = module.to(dev).eval()
    return LoadedModel(cfg=cfg, module=module, weights=source, device=dev)
