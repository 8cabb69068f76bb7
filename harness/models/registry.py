"""Model registry in the manner of ``timm/models/_registry.py``.

A module-level dict is filled by :func:`register_model`; :func:`list_models`
filters it with ``fnmatch`` and by family or source; :func:`get_model_cfg`
looks an entry up and names the close matches when it is unknown.
"""

from __future__ import annotations

import difflib
import fnmatch
import warnings
from collections.abc import Callable, Iterable

from .config import ModelCfg

_MODELS: dict[str, ModelCfg] = {}


class UnknownModelError(KeyError):
    """Raised for a model name that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0])


def register_model(fn: Callable[[], ModelCfg]) -> Callable[[], ModelCfg]:
    """Decorator: register the :class:`ModelCfg` returned by ``fn``.

    Registering a name twice warns and keeps the newest entry, as timm does.
    """
    cfg = fn()
    if cfg.name in _MODELS:
        warnings.warn(f"model {cfg.name!r} registered twice; keeping the newest", stacklevel=2)
    _MODELS[cfg.name] = cfg
    return fn


def add_model(cfg: ModelCfg) -> ModelCfg:
    """Register ``cfg`` directly (for configs built in a loop)."""
    register_model(lambda: cfg)
    return cfg


def list_models(
    filter: str | Iterable[str] = "*",
    *,
    family: str | None = None,
    source: str | Iterable[str] | None = None,
    exclude_source: Iterable[str] = (),
) -> list[str]:
    """Registered model names matching the ``fnmatch`` pattern(s), sorted."""
    patterns = [filter] if isinstance(filter, str) else list(filter)
    sources = {source} if isinstance(source, str) else (set(source) if source else None)
    excluded = set(exclude_source)
    names = []
    for name, cfg in _MODELS.items():
        if not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        if family is not None and cfg.family != family:
            continue
        if sources is not None and cfg.source not in sources:
            continue
        if cfg.source in excluded:
            continue
        names.append(name)
    return sorted(names)


def get_model_cfg(name: str) -> ModelCfg:
    """The config registered under ``name``; unknown names list close matches."""
    try:
        return _MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_MODELS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(f"unknown model {name!r}{hint} (see `python -m harness list models`)") from None


def is_registered(name: str) -> bool:
    return name in _MODELS
