"""Compute (or fetch from the store) predictions and explanations for cases.

Importable without pytest: a notebook can do

>>> run = Runner(Store(".harness/store"), builtin_images())
>>> case = run.explain("efficientnet_lite0", create_explainer("gradcam"))
>>> case.attributions.shape          # [N, H, W]

Data flows one way: registry -> case -> explanation (cached in the store).
Models are loaded only on a cache miss, so a fully cached run loads none.
What the store lacks is computed as jobs on an in-process
:class:`~harness.compute.engines.LocalEngine`, the worker that ``python -m
harness run`` uses, and written here under the same keys the grid writes.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..explainers import Explainer
from ..explainers.registry import CPU_BATCH, explainer_dist_versions
from ..images import ImageLoadError, ImageRecord, ImageSet, image_digest, preprocess, read_image
from ..models import (
    LoadedModel,
    WeightsOptions,
    WeightsSource,
    WeightsUnavailable,
    get_model_cfg,
    load_model,
    resolve_weights,
)
from ..models.loading import pick_device, random_weights
from .chunks import ChunkResult
from .engines import Job, JobResult, LocalEngine, Worker
from .replay import CheckCache
from .store import Store, content_key, library_versions

Progress = Callable[[str, int, int, float], None]  # (what, done, total, seconds so far)
CHUNK = CPU_BATCH  # images per explainer call on the CPU, by cost class
ENV_KEEP_MODELS = "XAI_HARNESS_KEEP_MODELS"  # loaded models kept in memory (least recently used dropped)
KEEP_MODELS = 3


def _preprocessing_fields(name: str) -> dict[str, Any]:
    cfg = get_model_cfg(name)
    return dict(
        input_size=cfg.input_size, mean=cfg.mean, std=cfg.std, crop_pct=cfg.crop_pct, interpolation=cfg.interpolation
    )


def _filled(items: list[np.ndarray | None]) -> list[np.ndarray]:
    """``items`` once every entry has been fetched or computed (a gap is a bug, said as such)."""
    if any(i is None for i in items):
        raise RuntimeError("runner: an entry was neither fetched from the store nor computed")
    return [i for i in items if i is not None]


@dataclass
class Predictions:
    model: str
    records: tuple[ImageRecord, ...]
    logits: np.ndarray  # [N, classes]

    @property
    def top1(self) -> np.ndarray:
        return self.logits.argmax(axis=1)

    def correct(self) -> tuple[int, int]:
        """(correct, labelled) over images that carry a label."""
        pairs = [(r, int(p)) for r, p in zip(self.records, self.top1) if r.label is not None]
        return sum(r.accepts(p) for r, p in pairs), len(pairs)


@dataclass
class CaseResult:
    """Explanations of one model x explainer over an image set."""

    model: str
    model_label: str
    explainer: str
    params: dict[str, Any]
    records: tuple[ImageRecord, ...]
    attributions: np.ndarray  # [N, H, W]
    targets: np.ndarray  # [N]
    native_resolution: tuple[int, int]
    seconds: float
    computed: int
    cached: int
    metas: list[dict[str, Any]] = field(default_factory=list)


class Runner:
    """Holds decoded images, loaded models and the store for one session.

    ``images`` is one :class:`ImageSet` (ImageNet labels), or a mapping from
    label space to image set: each model then sees the set of its own
    ``label_space`` (ImageNet photos for ImageNet models, ``shapes`` test
    images for the zoo).
    """

    def __init__(
        self,
        store: Store,
        images: ImageSet | Mapping[str, ImageSet],
        *,
        weights: WeightsOptions | None = None,
        device: str = "auto",
        progress: Progress | None = None,
        random_ok: bool = False,
    ) -> None:
        self.store = store
        self.weights = weights or WeightsOptions.from_env()
        self.device = device
        self.progress = progress
        self.random_ok = random_ok
        self.bad_images: dict[str, str] = {}
        self._pixels: dict[str, np.ndarray] = {}
        self._digests: dict[str, str] = {}
        sets = {"imagenet": images} if isinstance(images, ImageSet) else dict(images)
        self.image_sets: dict[str, ImageSet] = {}
        for space, image_set in sets.items():
            ok = []
            for rec in image_set.records:
                try:
                    px = read_image(rec.path)
                except ImageLoadError as exc:
                    self.bad_images[rec.id] = str(exc)
                    continue
                self._pixels[rec.id] = px
                self._digests[rec.id] = image_digest(px)
                ok.append(rec)
            self.image_sets[space] = ImageSet(image_set.name, tuple(ok), image_set.classes)
        self._main_space = "imagenet" if "imagenet" in self.image_sets else next(iter(self.image_sets))
        self.images = self.image_sets[self._main_space]
        keep = max(1, int(os.environ.get(ENV_KEEP_MODELS, KEEP_MODELS)))
        # the engine of ``python -m harness run``, in process: the worker holds the session's loaded models
        self.engine = LocalEngine(
            Worker(self.weights, random_ok=random_ok, device=device, keep=keep), raise_errors=True
        )
        self._random_loads = 0
        self._jobs = 0
        self._checks: CheckCache | None = None
        self._sources: dict[str, WeightsSource] = {}
        self._predictions: dict[str, Predictions] = {}
        self._batches: dict[str, int] = {}  # "<explainer> x <model>" -> batch that fitted after an out-of-memory

    def space_for(self, name: str) -> str:
        """Key of the image set ``name`` sees: its label space, else the main set's."""
        space = get_model_cfg(name).label_space
        return space if space in self.image_sets else self._main_space

    def images_for(self, name: str) -> ImageSet:
        """The image set in ``name``'s label space; the main set when there is none for it."""
        return self.image_sets[self.space_for(name)]

    # -- models -----------------------------------------------------------
    def weights_for(self, name: str) -> WeightsSource:
        """Resolve (and memoise) weights; raises WeightsUnavailable (declared random ones with ``random_ok``)."""
        if name not in self._sources:
            cfg = get_model_cfg(name)
            try:
                self._sources[name] = resolve_weights(cfg, self.weights)
            except WeightsUnavailable:
                if not self.random_ok:
                    raise
                self._sources[name] = random_weights(cfg)
        return self._sources[name]

    def model(self, name: str) -> LoadedModel:
        """Load lazily (only on a store miss), keeping the ``keep_models`` most recently used in memory
        (``$XAI_HARNESS_KEEP_MODELS``, default 3): the suites visit each model once per suite module,
        so a model is not reloaded for its neighbours' cases.  The models are the engine worker's."""
        return self.engine.worker.model(name)

    @property
    def loads(self) -> int:
        """Models built and loaded by this runner (a warm rerun loads none)."""
        return sum(self.engine.worker.loads.values()) + self._random_loads

    def random_model(self, name: str) -> LoadedModel:
        """``name`` on its declared random weights (structure checks), loaded now and counted, not kept."""
        self._random_loads += 1
        return load_model(name, pretrained=False, device=self.device)

    def compute(self, job: Job) -> JobResult:
        """Run one job on the runner's engine (the in-process :class:`~harness.compute.engines.LocalEngine`)."""
        self._jobs += 1
        self.engine.submit(replace(job, id=self._jobs))
        return self.engine.next()

    @property
    def checks(self) -> CheckCache:
        """The session's stored check outcomes (:class:`harness.compute.replay.CheckCache`) on this store."""
        if self._checks is None:
            self._checks = CheckCache(self.store, device=pick_device(self.device).type)
        return self._checks

    def digest(self, rec: ImageRecord) -> str:
        """The pixel digest of a record of the run's image sets (decoded once, at start)."""
        return self._digests[rec.id]

    def pixels(self, rec: ImageRecord) -> np.ndarray:
        return self._pixels[rec.id]

    def model_fields(self, name: str) -> dict[str, Any]:
        """What identifies ``name``'s outputs in the store (name, arch, weights hash, preprocessing,
        versions), without loading it."""
        return self._model_fields(name)

    def _model_fields(self, name: str) -> dict[str, Any]:
        src = self.weights_for(name)
        return dict(
            model=name,
            arch=get_model_cfg(name).arch,
            weights=src.sha256,
            preprocessing=_preprocessing_fields(name),
            versions=library_versions(),
        )

    def batch(self, name: str, records: list[ImageRecord]) -> torch.Tensor:
        """The model's preprocessed input for ``records``, on its device."""
        cfg = get_model_cfg(name)
        x = preprocess([self._pixels[r.id] for r in records], cfg)
        return x.to(pick_device(self.device))  # load_model's device; asking the model would load it

    def _report(self, what: str, done: int, total: int, start: float) -> None:
        if self.progress is not None:
            self.progress(what, done, total, time.perf_counter() - start)

    # -- predictions ------------------------------------------------------
    def logits_fields(self, name: str, rec: ImageRecord) -> dict[str, Any]:
        """The store key fields of ``name``'s logits on ``rec``."""
        return {**self._model_fields(name), "image": self._digests[rec.id]}

    def missing_logits(self, name: str) -> list[ImageRecord]:
        """The records of ``name``'s set whose logits the store lacks (not counted as misses)."""
        return [r for r in self.images_for(name).records if not self.store.has("logits", self.logits_fields(name, r))]

    def logits_job(self, name: str, records: list[ImageRecord]) -> Job:
        """The job that computes ``name``'s logits on ``records`` (id 0: the engine's driver numbers it)."""
        return Job(0, "logits", name, self.weights_for(name).sha256, self.input_array(name, records))

    def put_logits(self, name: str, records: list[ImageRecord], rows: np.ndarray) -> None:
        """Store computed logits: the one place predictions are written (the runner's and the grid's)."""
        for rec, row in zip(records, rows):
            self.store.put(
                "logits", self.logits_fields(name, rec), {"logits": row}, {"image_id": rec.id, "label": rec.label}
            )

    def predictions(self, name: str) -> Predictions:
        if name in self._predictions:
            return self._predictions[name]
        records = self.images_for(name).records
        entries = [self.store.get("logits", self.logits_fields(name, rec)) for rec in records]
        logits: list[np.ndarray | None] = [e.arrays["logits"] if e else None for e in entries]
        missing = [i for i, e in enumerate(entries) if e is None]
        if missing:
            recs = [records[i] for i in missing]
            rows = self.compute(self.logits_job(name, recs)).logits
            assert rows is not None
            self.put_logits(name, recs, rows)
            for i, row in zip(missing, rows):
                logits[i] = row
        preds = Predictions(name, records, np.stack(_filled(logits)) if logits else np.zeros((0, 0)))
        self._predictions[name] = preds
        return preds

    # -- explanations -----------------------------------------------------
    def targets_for(self, name: str, records, targets: str | np.ndarray = "pred") -> tuple[np.ndarray, str]:
        """``(class per record, mode)``: ``pred`` (top-1), ``label`` (true label, else top-1) or an array."""
        if not isinstance(targets, str):
            tgt = np.asarray(targets)
            if len(tgt) != len(records):
                raise ValueError(f"{len(tgt)} targets for {len(records)} images")
            return tgt, "custom"
        preds = self.predictions(name)
        if targets == "pred":
            return preds.top1[: len(records)], "pred"
        if targets == "label":
            return np.array([r.label if r.label is not None else p for r, p in zip(records, preds.top1)]), "label"
        raise ValueError(f"targets must be 'pred', 'label' or an array, not {targets!r}")

    def explanation_fields(self, name: str, explainer: Explainer, records, targets: np.ndarray) -> list[dict]:
        """The store key fields of each record's explanation for its target."""
        return [self.explanation_key_fields(name, explainer, self._digests[r.id], t) for r, t in zip(records, targets)]

    def explanation_key_fields(self, name: str, explainer: Explainer, digest: str, target: int) -> dict:
        """The store key fields of one explanation: ``name`` x ``explainer`` on the image whose decoded
        pixels have ``digest`` (:func:`~harness.images.image_digest`), for class ``target``."""
        fields = {
            **self._model_fields(name),
            "explainer": explainer.name,
            "explainer_version": explainer.cfg.version,
            "params": explainer.param_dict,
            "image": digest,
            "target": int(target),
        }
        dists = explainer_dist_versions(explainer)
        if dists:  # only then: the keys of explainers without extra distributions stay as they were
            fields["dists"] = dists
        return fields

    def explanation_keys(self, name: str, explainer: Explainer, limit: int | None = None) -> list[str]:
        """Store keys of the top-1 explanations ``explain(name, explainer, limit=limit)`` reads
        (predictions from the store; nothing is explained or loaded when they are stored)."""
        records = self.images_for(name).records[:limit]
        tgt, _ = self.targets_for(name, records, "pred")
        return [content_key("explanation", f) for f in self.explanation_fields(name, explainer, records, tgt)]

    def input_array(self, name: str, records) -> np.ndarray:
        """The model's preprocessed input for ``records`` as a CPU float32 array (what engines ship)."""
        return preprocess([self._pixels[r.id] for r in records], get_model_cfg(name)).numpy()

    def image_meta(self, name: str, rec: ImageRecord, target: int, mode: str, label: str, kind: str) -> dict:
        """Meta of one stored explanation that does not depend on how it was computed."""
        return {
            "image_id": rec.id,
            "label": rec.label,
            "target": int(target),
            "targets_mode": mode,
            "family": get_model_cfg(name).family,
            "label_space": self.space_for(name),
            "model_label": label,
            "weights_kind": kind,
            "harness": __version__,
            "python": platform.python_version(),
        }

    def put_chunk(self, name: str, fields: list[dict], metas: list[dict], chunk: ChunkResult) -> list[dict]:
        """Write a computed chunk (``fields`` and partial ``metas`` per image); returns the full metas."""
        out = []
        for j, (f, m) in enumerate(zip(fields, metas)):
            meta = {**m, **chunk.image_meta(j)}
            arrays = {"attribution": chunk.attributions[j]}
            if chunk.native is not None:
                arrays["native"] = chunk.native[j]
            self.store.put("explanation", f, arrays, meta)
            out.append(meta)
        return out

    def explain(
        self, name: str, explainer: Explainer, *, targets: str | np.ndarray = "pred", limit: int | None = None
    ) -> CaseResult:
        """Explanations for every image (or the first ``limit``).

        ``targets`` is ``pred`` (top-1 class), ``label`` (true label where
        known, else top-1) or an array of class indices.
        """
        records = self.images_for(name).records[:limit]
        tgt, mode = self.targets_for(name, records, targets)
        fields = self.explanation_fields(name, explainer, records, tgt)
        maps: list[np.ndarray | None] = []
        metas: list[dict[str, Any]] = []
        for f in fields:
            entry = self.store.get("explanation", f)
            maps.append(entry.arrays["attribution"] if entry else None)
            metas.append(entry.meta if entry else {})
        missing = [i for i, m in enumerate(maps) if m is None]
        start = time.perf_counter()
        what = f"{explainer.name} x {name}"
        for k in range(0, len(missing), self.chunk_size(name, explainer)):
            idx = missing[k : k + self.chunk_size(name, explainer)]
            job = self.explain_job(name, explainer, [records[i] for i in idx], tgt[idx], batch=self._batches.get(what))
            res = self.compute(job)
            chunk = res.chunk
            assert chunk is not None
            if chunk.oom_retries:
                self._batches[what] = chunk.batch  # later chunks start at the batch that fitted
            partial = [self.image_meta(name, records[i], tgt[i], mode, res.model_label, res.weights_kind) for i in idx]
            for i, meta, j in zip(idx, self.put_chunk(name, [fields[i] for i in idx], partial, chunk), range(len(idx))):
                maps[i], metas[i] = chunk.attributions[j], meta
            self._report(what, k + len(idx), len(missing), start)
        label = metas[0].get("model_label", name) if metas else name
        return CaseResult(
            model=name,
            model_label=label,
            explainer=explainer.name,
            params=explainer.param_dict,
            records=records,
            attributions=np.stack(_filled(maps)),
            targets=np.asarray(tgt),
            native_resolution=tuple(metas[0]["native_resolution"]) if metas else (0, 0),
            seconds=sum(m.get("seconds", 0.0) for m in metas),
            computed=len(missing),
            cached=len(records) - len(missing),
            metas=metas,
        )

    def explain_job(
        self, name: str, explainer: Explainer, records, targets: np.ndarray, *, batch: int | None = None
    ) -> Job:
        """The job that explains ``records`` for ``targets`` (id 0: the engine's driver numbers it)."""
        return Job(
            0,
            "explain",
            name,
            self.weights_for(name).sha256,
            self.input_array(name, records),
            explainer=explainer.name,
            params=explainer.params,
            targets=np.asarray(targets),
            batch=batch,
            instance=explainer,
        )

    def chunk_size(self, name: str, explainer: Explainer) -> int:
        """Images per chunk: the explainer's batch size on the model's device (``ExplainerCfg.batch_size``)."""
        return explainer.cfg.batch_size(pick_device(self.device).type)
