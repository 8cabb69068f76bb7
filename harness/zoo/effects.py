"""Intervention effects: how much each re-rendered element moves a model's predicted-class logit.

For one model and one ``shapes`` sample, :func:`measure_effects` runs the original render and every
intervention of :mod:`harness.zoo.interventions`, and keeps the logits.  The *intervention
importance* of an element is the drop of the predicted class's logit when the element is changed:
``logit(original) - logit(intervened)``.  The logits are stored like the other entries (kind
``intervention``, keyed by the model's store identity, the scene and :data:`EFFECTS_VERSION`), so a
rerun reads them instead of running the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from ..images import preprocess
from ..models.zoo import ZooCfg, trained_on
from .interventions import intervene, interventions_for, regions
from .shapes import Scene, balanced_indices, draw_scene, render

KIND = "intervention"
EFFECTS_VERSION = "1"  # bump when rendering or the interventions change
RENDER_CACHE = 64  # samples whose renders are kept (about 1 MB each): the evaluated and tuning images
N_EVAL = 16  # evaluated images per model: the class-balanced ``test`` images 0..15 (two per class)


@dataclass(frozen=True)
class SceneRef:
    """Which ``shapes`` sample: seed, split, index, and whether it is the spurious-cue variant."""

    seed: int
    split: str
    index: int
    spurious: bool = False

    def scene(self) -> Scene:
        return draw_scene(self.seed, self.split, self.index, spurious=self.spurious)


@dataclass
class Effects:
    """One model on one sample: predicted class, its logit, and the drop under each intervention."""

    ref: SceneRef
    target: int
    logit: float
    names: tuple[str, ...]
    drops: np.ndarray  # [len(names)], logit units
    regions: dict[str, np.ndarray]  # visible pixels of object, distractor_<k>, background ([224, 224] bool)

    def drop(self, name: str) -> float:
        return float(self.drops[self.names.index(name)])

    def region_importance(self, region: str) -> float:
        """The drop that stands for ``region``: its own intervention's; for the background the larger
        (in size) of swapping it and moving its tint (``cue``, spurious scenes): both change only it."""
        if region == "background" and "cue" in self.names:
            return max(self.drop("background"), self.drop("cue"), key=abs)
        return self.drop(region)

    def as_dict(self) -> dict:
        return {
            "scene": asdict(self.ref),
            "target": self.target,
            "logit": round(self.logit, 4),
            "drops": {n: round(float(d), 4) for n, d in zip(self.names, self.drops)},
        }


@functools.lru_cache(maxsize=RENDER_CACHE)
def renders(ref: SceneRef) -> tuple[np.ndarray, ...]:
    """The original render of ``ref`` and one per intervention, in :func:`interventions_for` order.

    Kept for the last ``RENDER_CACHE`` samples: every model of a run sees the same samples, and
    rendering, not the small models' forward passes, is most of the cost."""
    scene = ref.scene()
    return (render(scene), *(render(intervene(scene, n)) for n in interventions_for(scene)))


def in_shapes_world(model_cfg) -> bool:
    """Whether ``model_cfg`` classifies the ``shapes`` world, so its images can be re-rendered (a zoo model)."""
    return isinstance(model_cfg, ZooCfg)


def evaluated_refs(model_cfg, split: str = "test", n: int = N_EVAL) -> list[SceneRef]:
    """The first ``n`` class-balanced samples of ``split`` in the world ``model_cfg`` was trained on
    (the spurious-cue models: its spurious variant, whose ``test`` tint is independent of the class)."""
    spurious = trained_on(model_cfg) == "shapes-spurious"
    return [SceneRef(0, split, i, spurious) for i in balanced_indices(0, split, n, spurious=spurious)]


def _logits(module: torch.nn.Module, images: list[np.ndarray], cfg, device) -> np.ndarray:
    with torch.no_grad():
        return module(preprocess(images, cfg).to(device)).float().cpu().numpy()


def measure_effects(loaded, ref: SceneRef, *, store=None, model_fields: dict | None = None) -> Effects:
    """The original and intervened logits of ``loaded`` on ``ref`` (read from ``store`` when there)."""
    scene = ref.scene()
    names = interventions_for(scene)
    fields = {"model": model_fields, "scene": asdict(ref), "version": EFFECTS_VERSION, "interventions": list(names)}
    entry = store.get(KIND, fields) if store is not None and model_fields is not None else None
    if entry is not None:
        logits = entry.arrays["logits"]
    else:
        logits = _logits(loaded.module, list(renders(ref)), loaded.cfg, loaded.device)
        if store is not None and model_fields is not None:
            store.put(KIND, fields, {"logits": logits.astype(np.float32)}, {"names": list(names)})
    target = int(logits[0].argmax())
    drops = logits[0, target] - logits[1:, target]
    return Effects(ref, target, float(logits[0, target]), names, drops.astype(np.float64), regions(scene))


class _LazyModel:
    """Stands for the model that ``load()`` returns, built on the first attribute asked for."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load

    @functools.cached_property
    def _model(self) -> Any:
        return self._load()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def stored_effects(
    load: Callable[[], Any], refs: list[SceneRef], *, store, model_fields: dict[str, Any]
) -> list[Effects]:
    """:func:`measure_effects` of each of ``refs``, calling ``load()`` (the model) only on the first
    store miss: where the intervention suite or an earlier run stored the logits, nothing is loaded."""
    lazy = _LazyModel(load)
    return [measure_effects(lazy, r, store=store, model_fields=model_fields) for r in refs]


def original_input(ref: SceneRef, cfg) -> torch.Tensor:
    """The unchanged render of ``ref``, preprocessed for ``cfg`` (``[1, 3, S, S]``)."""
    return preprocess([render(ref.scene())], cfg)
