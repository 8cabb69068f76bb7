"""Model registry in the manner of ``timm/models/_registry.py``.

:data:`MODELS` (a :class:`harness.registry.Registry`) is filled by
:func:`register_model` / :func:`add_model`; :func:`list_models` filters it
with ``fnmatch`` and by family or source; :func:`get_model_cfg` looks an
entry up and names the close matches when it is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..registry import Registry, UnknownNameError
from .config import ModelCfg


class UnknownModelError(UnknownNameError):
    """Raised for a model name that is not registered."""


MODELS: Registry[ModelCfg] = Registry("model", hint="see `python -m harness list models`", error=UnknownModelError)


def register_model(fn: Callable[[], ModelCfg]) -> Callable[[], ModelCfg]:
    """Decorator: register the :class:`ModelCfg` returned by ``fn``.

    Registering a name twice warns and keeps the newest entry, as timm does.
    """
    cfg = fn()
    MODELS.add(cfg.name, cfg)
    return fn


def add_model(cfg: ModelCfg) -> ModelCfg:
    """Register ``cfg`` directly (for configs built in a loop, or a user's own model)."""
    return MODELS.add(cfg.name, cfg)


def list_models(
    filter: str | Iterable[str] = "*",
    *,
    family: str | None = None,
    source: str | Iterable[str] | None = None,
    exclude_source: Iterable[str] = (),
) -> list[str]:
    """Registered model names matching the ``fnmatch`` pattern(s), sorted."""
    sources = {source} if isinstance(source, str) else (set(source) if source else None)
    excluded = set(exclude_source)
    return MODELS.names(
        filter,
        where=lambda c: (
            (family is None or c.family == family)
            and (sources is None or c.source in sources)
            and c.source not in excluded
        ),
    )


def get_model_cfg(name: str) -> ModelCfg:
    """The config registered under ``name``; unknown names list close matches."""
    return MODELS.get(name)


def is_registered(name: str) -> bool:
    return name in MODELS
