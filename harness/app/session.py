"""The app's state: loaded models shared by every request, and each answer read from or written to the store.

:class:`ExploreSession` is plain Python (no web framework), so a notebook or a
test drives it as the page does::

    session = ExploreSession(Store(".harness/store"), models=["zoo_resnet", "zoo_vit_p16"])
    picture = read_upload("cat.jpg")
    session.predict("zoo_resnet", picture).top            # top-5 (class, name, probability)
    session.explain("zoo_resnet", "gradcam", picture)     # a MapResult, stored

* Models load once, on first use, and stay loaded; each has a lock, held
  while it computes, so two requests never run hooks on one model at once and
  the second of two identical requests finds the first one's answer stored.
* Store keys are the runner's (:class:`harness.compute.runner.Runner`): model, weights
  hash, preprocessing, library versions, explainer and parameters, the digest
  of the decoded pixels and the target class.  An image explained here and
  by ``python -m harness run`` shares its entries, and nothing is computed twice.
* Only models whose real or trained weights resolve are offered
  (:func:`available_models`); the session never falls back to random weights.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..compute.chunks import explain_chunk
from ..compute.runner import CaseResult, Runner
from ..compute.store import Store
from ..explainers import Explainer, create_explainer, get_explainer_cfg
from ..images import ImageSet, preprocess
from ..models import (
    LoadedModel,
    WeightsOptions,
    WeightsUnavailable,
    get_model_cfg,
    list_models,
    load_model,
    resolve_weights,
)
from ..models.loading import pick_device
from .labels import class_namer
from .uploads import Picture

TOP_K = 5


@dataclass(frozen=True)
class Prediction:
    """A model's answer for one picture: logits and the top-k classes with their probabilities."""

    model: str
    logits: np.ndarray  # [classes]
    top: tuple[tuple[int, str, float], ...]  # (class index, class name, probability), best first
    cached: bool

    def ranked(self, rank: int) -> int:
        """The class at ``rank`` (1 = top-1, 2 = second-ranked)."""
        return int(np.argsort(-self.logits)[rank - 1])


@dataclass(frozen=True)
class MapResult:
    """One explanation of one picture for one class, as stored."""

    model: str
    model_label: str
    explainer: str
    params: dict[str, Any]
    target: int
    attribution: np.ndarray  # float32 [H, W] at the model's input resolution
    native_resolution: tuple[int, int]
    seconds: float  # compute time when it was computed (also for a stored answer)
    cached: bool

    def case(self, picture: Picture) -> CaseResult:
        """The map as a one-image :class:`~harness.compute.runner.CaseResult`, the form the checks take."""
        return CaseResult(
            model=self.model,
            model_label=self.model_label,
            explainer=self.explainer,
            params=self.params,
            records=(picture.record,),
            attributions=self.attribution[None],
            targets=np.array([self.target]),
            native_resolution=self.native_resolution,
            seconds=self.seconds,
            computed=0 if self.cached else 1,
            cached=1 if self.cached else 0,
        )


def has_real_weights(name: str, weights: WeightsOptions | None = None) -> bool:
    """Whether ``name``'s trained or pretrained weights resolve here (declared random ones do not count)."""
    try:
        return not resolve_weights(get_model_cfg(name), weights or WeightsOptions.from_env()).is_random
    except WeightsUnavailable:
        return False


def available_models(
    patterns: list[str], weights: WeightsOptions | None = None, *, exclude_source: tuple[str, ...] = ()
) -> list[str]:
    """Registered models matching ``patterns`` whose real weights resolve, sorted by name.

    ``exclude_source`` leaves out sources by name (the app's default leaves out the unit tests' ``toy``
    models, which are hand-set, not trained)."""
    names = list(dict.fromkeys(m for p in patterns for m in list_models(p.strip(), exclude_source=exclude_source)))
    return [m for m in names if has_real_weights(m, weights)]


class ExploreSession:
    """Loaded models, the store and the compute behind every request of the app (thread-safe)."""

    def __init__(
        self,
        store: Store,
        models: list[str],
        explainers: list[str] | None = None,
        *,
        weights: WeightsOptions | None = None,
        device: str = "auto",
    ) -> None:
        self.store = store
        self.models = list(models)
        self.explainers = list(explainers) if explainers is not None else []
        self.weights = weights or WeightsOptions.from_env()
        self.device = device
        # the runner only supplies store keys and metadata here: it holds no images and loads nothing
        self.keys = Runner(store, ImageSet("explore"), weights=self.weights, device=device)
        self._loaded: dict[str, LoadedModel] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.loads = 0  # models loaded by this session (each once)
        self.computed = 0  # predictions and maps computed (not read from the store)

    # -- models ---------------------------------------------------------------
    def lock(self, name: str) -> threading.Lock:
        """The lock held while ``name`` computes."""
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def _model(self, name: str) -> LoadedModel:
        """``name`` loaded (once); the caller holds :meth:`lock` of ``name``."""
        if name not in self._loaded:
            self._loaded[name] = load_model(name, weights=self.weights, device=self.device, random_ok=False)
            self.loads += 1
        return self._loaded[name]

    def loaded_model(self, name: str) -> LoadedModel:
        """``name`` loaded (once), for a caller that holds :meth:`lock` of ``name``."""
        return self._model(name)

    def loaded(self) -> list[str]:
        return list(self._loaded)

    def _input(self, name: str, picture: Picture) -> torch.Tensor:
        return preprocess([picture.pixels], get_model_cfg(name)).to(pick_device(self.device))

    # -- predictions ------------------------------------------------------------
    def predict(self, name: str, picture: Picture) -> Prediction:
        """``name``'s top-5 for ``picture`` (logits from the store when stored)."""
        fields = {**self.keys.model_fields(name), "image": picture.digest}
        entry = self.store.get("logits", fields)
        cached = entry is not None
        if entry is None:
            with self.lock(name):
                entry = self.store.get("logits", fields)  # another request may have just written it
                cached = entry is not None
                if entry is None:
                    with torch.no_grad():
                        row = self._model(name)(self._input(name, picture)).float().cpu().numpy()[0]
                    meta = {"image_id": picture.id, "label": picture.label}
                    entry = self.store.put("logits", fields, {"logits": row}, meta)
                    self.computed += 1
        logits = np.asarray(entry.arrays["logits"], dtype=np.float64)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        name_of = class_namer(get_model_cfg(name))
        order = np.argsort(-logits)[:TOP_K]
        top = tuple((int(k), name_of(int(k)), float(probs[k])) for k in order)
        return Prediction(name, logits.astype(np.float32), top, cached)

    # -- explanations -----------------------------------------------------------
    def explain(self, name: str, explainer: str | Explainer, picture: Picture, *, rank: int = 1) -> MapResult:
        """The map of ``explainer`` on ``name`` for the class at ``rank`` (1 = top-1), stored once computed."""
        expl = create_explainer(explainer) if isinstance(explainer, str) else explainer
        target = self.predict(name, picture).ranked(rank)
        return self.explain_class(name, expl, picture, target, mode="pred" if rank == 1 else f"rank{rank}")

    def explain_class(self, name: str, expl: Explainer, picture: Picture, target: int, *, mode: str) -> MapResult:
        """The map for class ``target``; reads the store first, computes under the model's lock on a miss."""
        fields = self.keys.explanation_key_fields(name, expl, picture.digest, target)
        entry = self.store.get("explanation", fields)
        if entry is None:
            with self.lock(name):
                entry = self.store.get("explanation", fields)
                if entry is None:
                    return self._compute(name, expl, picture, target, mode, fields)
        meta = entry.meta
        return MapResult(
            model=name,
            model_label=meta.get("model_label", name),
            explainer=expl.name,
            params=expl.param_dict,
            target=target,
            attribution=np.asarray(entry.arrays["attribution"], dtype=np.float32),
            native_resolution=tuple(meta.get("native_resolution", entry.arrays["attribution"].shape)),
            seconds=float(meta.get("seconds", 0.0)),
            cached=True,
        )

    def _compute(self, name: str, expl: Explainer, picture: Picture, target: int, mode: str, fields) -> MapResult:
        model = self._model(name)
        start = time.perf_counter()
        chunk = explain_chunk(model, expl, self._input(name, picture), torch.tensor([target]))
        partial = self.keys.image_meta(name, picture.record, target, mode, model.label, model.weights.kind)
        self.keys.put_chunk(name, [fields], [partial], chunk)
        self.computed += 1
        return MapResult(
            model=name,
            model_label=model.label,
            explainer=expl.name,
            params=expl.param_dict,
            target=target,
            attribution=chunk.attributions[0],
            native_resolution=chunk.native_resolution,
            seconds=time.perf_counter() - start,
            cached=False,
        )

    def supports(self, name: str, explainer: str) -> bool:
        """Whether ``explainer`` applies to ``name`` (family, token layout, traits)."""
        return get_explainer_cfg(explainer).supports(get_model_cfg(name))
