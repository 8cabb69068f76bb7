"""Model registry in the manner of ``timm/models/_registry.py``.

:data:`MODELS` (a :class:`harness.core.registry.Registry`) is filled by
:func:`register_model` / :func:`add_model`; :func:`list_models` filters it
with ``fnmatch`` and by family or source; :func:`get_model_cfg` looks an
entry up and names the close matches when it is unknown.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable, Iterable

from ..core.registry import Registry, UnknownNameError
from .config import ModelCfg


class UnknownModelError(UnknownNameError):
    """Raised for a model name that is not registered."""


class ModelRegistry(Registry[ModelCfg]):
    """The model registry; entries may be added lazily (:meth:`add_lazy`) and are built on first use.

    Configs derived from timm (:func:`~harness.models.from_timm.from_timm`) build the architecture
    on the meta device; registering them lazily keeps ``import harness`` from importing timm.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lazy: dict[str, Callable[[], ModelCfg]] = {}

    def add_lazy(self, name: str, factory: Callable[[], ModelCfg]) -> None:
        """Register ``factory()`` under ``name``; it runs on the first lookup or listing."""
        if name in self._entries or name in self._lazy:
            warnings.warn(f"{self.kind} {name!r} registered twice; keeping the newest", stacklevel=3)
            self._entries.pop(name, None)
        self._lazy[name] = factory

    def _resolve(self, names: Iterable[str] | None = None) -> None:
        for name in list(self._lazy) if names is None else [n for n in names if n in self._lazy]:
            cfg = self._lazy.pop(name)()
            if cfg.name != name:
                raise ValueError(f"lazy model {name!r} built a config named {cfg.name!r}")
            self._entries[name] = cfg

    def add(self, name: str, entry: ModelCfg) -> ModelCfg:
        if self._lazy.pop(name, None) is not None:
            warnings.warn(f"{self.kind} {name!r} registered twice; keeping the newest", stacklevel=3)
        return super().add(name, entry)

    def remove(self, name: str) -> ModelCfg:
        self._resolve([name])
        return super().remove(name)

    def get(self, name: str) -> ModelCfg:
        self._resolve([name])
        return super().get(name)

    def names(self, filter="*", *, where=None) -> list[str]:
        patterns = [filter] if isinstance(filter, str) else list(filter)
        self._resolve([n for n in self._lazy if any(fnmatch.fnmatch(n, p) for p in patterns)])
        return super().names(patterns, where=where)

    def items(self):
        self._resolve()
        return super().items()

    def __contains__(self, name: object) -> bool:
        return name in self._lazy or super().__contains__(name)

    def __len__(self) -> int:
        return len(self._lazy) + super().__len__()


MODELS = ModelRegistry("model", hint="see `python -m harness list models`", error=UnknownModelError)


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


def add_lazy_model(name: str, factory: Callable[[], ModelCfg]) -> None:
    """Register a config built on first use (``lambda: from_timm("resnet50", name="resnet50")``)."""
    MODELS.add_lazy(name, factory)


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
