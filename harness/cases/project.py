"""Declarations from the user's project: ``[tool.xai-harness]``, the register hook and entry points.

A project declares its models, image sets and explainers in its own
``pyproject.toml``; paths are relative to that file::

    [tool.xai-harness]
    baselines = "tests/baselines"           # regression baselines, keyed by image set
    plugins = ["my_project.xai"]            # modules imported first (they register explainers)

    [tool.xai-harness.images.shapes_val]
    folder = "data/shapes_val"              # ImageFolder layout: <class name>/<image>
    masks = "data/shapes_val_masks"         # optional object masks, same relative paths, PNG, nonzero = object
                                            # (default: a masks/ folder beside the image folder, if any)

    [tool.xai-harness.models.shapes_resnet]
    arch = "resnet18"                       # timm name, torchvision:NAME or transformers:CLASS
    checkpoint = "checkpoints/shapes_resnet.safetensors"
    class_names = ["circle", "square", "triangle"]
    images = "shapes_val"                   # the image set this model is shown
    input_size = 64                         # any other ModelCfg field

Code registers the same through :class:`HarnessRegistry`: in a
``conftest.py`` (hook ``pytest_harness_register``, see :mod:`harness.plugin.hookspec`)
or in a package, as an entry point of the group ``xai_harness.plugins``
(a module with ``pytest_harness_register(registry)``, or that function)::

    [project.entry-points."xai_harness.plugins"]
    my_models = "my_project.xai"
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ..explainers import ExplainerCfg, register_explainer
from ..explainers.registry import EXPLAINERS
from ..images import ImageSet, check_classes, class_folder, folder_classes, parallel_masks
from ..models import ModelCfg, add_model
from ..models.checkpoint import checkpoint_model
from ..models.registry import MODELS
from .image_sets import bind_label_space, unbind_label_space

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENTRY_POINT_GROUP = "xai_harness.plugins"
SECTION = "xai-harness"


class ProjectConfigError(ValueError):
    """``[tool.xai-harness]`` declares something that cannot be built; the message names the entry."""


@dataclass
class HarnessRegistry:
    """What a project registers; passed to ``pytest_harness_register`` and entry-point plugins."""

    root: Path = field(default_factory=Path.cwd)
    models: list[str] = field(default_factory=list)
    image_sets: dict[str, Path] = field(default_factory=dict)
    image_masks: dict[str, Path] = field(default_factory=dict)  # image set -> its declared mask folder
    explainers: list[str] = field(default_factory=list)
    label_spaces: list[str] = field(default_factory=list)

    def _path(self, p: str | Path) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else self.root / path

    def add_model(
        self, cfg: ModelCfg, *, images: str | Path | None = None, masks: str | Path | None = None
    ) -> ModelCfg:
        """Register ``cfg``; ``images`` (a declared image set's name or an ImageFolder path) is what it sees,
        ``masks`` the folder of its object masks (default: :meth:`masks_for`).

        A project re-declaring its own model (the hook runs once per pytest session) replaces it silently.
        """
        if cfg.name in self.models:
            MODELS.remove(cfg.name)
        add_model(cfg)
        if cfg.name not in self.models:
            self.models.append(cfg.name)
        if images is not None:
            self.bind_images(cfg, images, masks=masks)
        return cfg

    def checkpoint_model(
        self, name: str, *, images: str | Path | None = None, masks: str | Path | None = None, **kwargs: Any
    ) -> ModelCfg:
        """Declare a model by ``arch``, ``checkpoint`` and classes (see :mod:`harness.models.checkpoint`)."""
        kwargs["checkpoint"] = self._path(kwargs["checkpoint"])
        return self.add_model(checkpoint_model(name, register=False, **kwargs), images=images, masks=masks)

    def add_image_set(self, name: str, folder: str | Path, *, masks: str | Path | None = None) -> Path:
        """Declare an ImageFolder-layout folder under ``name``, with its object masks' folder if given."""
        path = self._path(folder)
        if not path.is_dir():
            raise ProjectConfigError(f"image set {name}: folder {path} does not exist")
        self.image_sets[name] = path
        if masks is not None:
            mask_path = self._path(masks)
            if not mask_path.is_dir():
                raise ProjectConfigError(f"image set {name}: mask folder {mask_path} does not exist")
            self.image_masks[name] = mask_path
        return path

    def masks_for(self, images: str | Path) -> Path | None:
        """The object masks of an image set: its declared ``masks``, else a ``masks/`` folder beside it."""
        key = str(images)
        if key in self.image_masks:
            return self.image_masks[key]
        return parallel_masks(self.image_sets.get(key) or self._path(images))

    def bind_images(self, cfg: ModelCfg, images: str | Path, *, masks: str | Path | None = None) -> None:
        """Show ``cfg`` the ImageFolder set ``images``, labelled by its class names (checked now), with the
        object masks of ``masks`` or of :meth:`masks_for` (every image's mask checked now)."""
        key = str(images)
        path = self.image_sets.get(key) or self._path(images)
        set_name = key if key in self.image_sets else path.name
        if not path.is_dir():
            raise ProjectConfigError(f"model {cfg.name}: image set {key!r} is neither declared nor a folder ({path})")
        if cfg.class_names:
            check_classes(cfg.name, cfg.class_names, path, folder_classes(path))
        classes = cfg.class_names or None
        space = cfg.label_space
        if masks is not None:
            masks = self._path(masks)
            if not masks.is_dir():
                raise ProjectConfigError(f"model {cfg.name}: mask folder {masks} does not exist")
        else:
            masks = self.masks_for(images)

        def load() -> ImageSet:
            return class_folder(path, classes=classes, model=cfg.name, label_space=space, name=set_name, masks=masks)

        if masks is not None:
            try:
                load()  # every image has its mask, of its size: say which does not now, not mid-run
            except (ValueError, FileNotFoundError) as exc:
                raise ProjectConfigError(f"model {cfg.name}, image set {key!r}: {exc}") from exc
        bind_label_space(space, load, masks=masks is not None)
        self.label_spaces.append(space)

    def unregister(self) -> None:
        """Undo every registration (for tests that load several projects in one process)."""
        for name in self.models:
            if name in MODELS:
                MODELS.remove(name)
        for name in self.explainers:
            if name in EXPLAINERS:
                EXPLAINERS.remove(name)
        for space in self.label_spaces:
            unbind_label_space(space)
        self.models.clear()
        self.explainers.clear()
        self.label_spaces.clear()

    def explainer(self, cfg: ExplainerCfg) -> Callable:
        """Decorator: register ``fn(model, x, target) -> RawExplanation`` with its tags in ``cfg``."""

        def deco(fn: Callable) -> Callable:
            if cfg.name in self.explainers:
                EXPLAINERS.remove(cfg.name)
            register_explainer(cfg)(fn)
            if cfg.name not in self.explainers:
                self.explainers.append(cfg.name)
            return fn

        return deco


def _read_toml(path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def project_section(root: str | Path) -> dict[str, Any]:
    """``[tool.xai-harness]`` of ``root/pyproject.toml`` (empty when there is none)."""
    path = Path(root) / "pyproject.toml"
    if not path.is_file():
        return {}
    return dict(_read_toml(path).get("tool", {}).get(SECTION, {}))


def _call_plugin(obj: Any, registry: HarnessRegistry, where: str) -> None:
    """A module: its ``pytest_harness_register`` if it has one (else importing it registered what it has);
    a callable: called with the registry."""
    fn = getattr(obj, "pytest_harness_register", None) if isinstance(obj, types.ModuleType) else obj
    if fn is None:
        return
    if not callable(fn):
        raise ProjectConfigError(f"{where}: {fn!r} is not callable")
    fn(registry=registry)


def load_entry_points(registry: HarnessRegistry, group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Run every installed plugin of the entry-point group; returns their names."""
    names = []
    for ep in metadata.entry_points(group=group):
        _call_plugin(ep.load(), registry, f"entry point {ep.name}")
        names.append(ep.name)
    return names


def _import(spec: str, what: str) -> Any:
    module, _, attr = spec.partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise ProjectConfigError(f"[tool.{SECTION}] {what} {spec!r}: cannot import {module}: {exc}") from exc
    return getattr(mod, attr) if attr else mod


def apply_section(section: dict[str, Any], registry: HarnessRegistry) -> None:
    """Register what ``[tool.xai-harness]`` declares (plugins, explainers, image sets, models)."""
    if str(registry.root) not in sys.path:  # the project's own modules, as pytest's rootdir conftest sees them
        sys.path.insert(0, str(registry.root))
    for spec in section.get("plugins", []):
        _call_plugin(_import(spec, "plugin"), registry, spec)
    for spec in section.get("explainers", []):
        _import(spec, "explainer")  # registers at import (@register_explainer)
    for name, decl in section.get("images", {}).items():
        if "folder" not in decl:
            raise ProjectConfigError(f"[tool.{SECTION}.images.{name}] needs folder = PATH (ImageFolder layout)")
        registry.add_image_set(name, decl["folder"], masks=decl.get("masks"))
    for name, decl in section.get("models", {}).items():
        decl = dict(decl)
        images = decl.pop("images", None)
        masks = decl.pop("masks", None)
        for key in ("class_names", "mean", "std", "target_layers", "strides", "grid_size", "traits"):
            if key in decl:
                decl[key] = tuple(decl[key])
        if "arch" not in decl or "checkpoint" not in decl:
            raise ProjectConfigError(f"[tool.{SECTION}.models.{name}] needs arch = ... and checkpoint = PATH")
        try:
            registry.checkpoint_model(name, images=images, masks=masks, **decl)
        except (TypeError, ValueError) as exc:
            raise ProjectConfigError(f"[tool.{SECTION}.models.{name}]: {exc}") from exc


_LOADED: dict[str, HarnessRegistry] = {}


def load_project(root: str | Path, *, hook: Any = None, entry_points: bool = True) -> HarnessRegistry:
    """Load a project's declarations once: ``[tool.xai-harness]``, entry points, then the pytest hook."""
    key = str(Path(root).resolve())
    if key in _LOADED and hook is None:
        return _LOADED[key]
    registry = _LOADED.get(key) or HarnessRegistry(root=Path(key))
    if key not in _LOADED:
        _LOADED[key] = registry
        apply_section(project_section(key), registry)
        if entry_points:
            load_entry_points(registry)
    if hook is not None:
        hook.pytest_harness_register(registry=registry)
    return registry


def unload_project(root: str | Path) -> None:
    """Forget a loaded project and unregister what it declared."""
    registry = _LOADED.pop(str(Path(root).resolve()), None)
    if registry is not None:
        registry.unregister()


def project_baselines(root: str | Path) -> Path | None:
    """The ``baselines`` folder ``[tool.xai-harness]`` names, relative to the project; None if it names none."""
    value = project_section(root).get("baselines")
    return (Path(root) / value) if value else None


def project_models(root: str | Path | None = None) -> list[str]:
    """The models the project registered (by ``[tool.xai-harness]``, entry points or the hook)."""
    if root is not None:
        return list(load_project(root).models)
    return [m for r in _LOADED.values() for m in r.models]
