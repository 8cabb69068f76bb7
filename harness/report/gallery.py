"""Galleries: every model x explainer map of a run, overlaid on the image each model saw.

Per image set (label space) and image: a grid with models as rows, grouped
and labelled by family, with the model's prediction and its probability in
the row label; the original image in the first column, then one column per
explainer.  CAM-family maps also get a native-resolution view (their 7x7 or
14x14 map upsampled by nearest neighbour), so the resolution gap shows.

Everything comes from the store (explanations and logits) plus the image
files themselves: the store keys an explanation by the image's pixel digest,
so the image is re-read from the image set (cheap) and matched by digest,
never recomputed.  Files are written at display size (see
:mod:`~harness.report.overlays`); :func:`write_galleries` returns the index
the viewer embeds.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..cases.image_sets import image_set_from_spec
from ..compute.store import Store, canonical_json
from ..explainers import get_explainer_cfg
from ..images import ImageLoadError, image_digest, read_image
from ..images.preprocess import resize_crop
from ..models import get_model_cfg
from ..zoo.shapes import CLASS_NAMES, LABEL_SPACE, shapes_images
from . import overlays
from .gallery_figure import write_figure

FAMILY_ORDER = ("cnn", "hybrid", "transformer")
NATIVE_GROUP = "cam"  # explainer group whose maps get a native-resolution view


@dataclass
class _Ref:
    """One stored explanation chosen for the gallery (arrays read later)."""

    path: Path
    model: str
    explainer: str
    key: str  # explainer + params slug
    params: dict[str, Any]
    image: str  # pixel digest
    image_id: str
    target: int
    label: int | None
    family: str
    model_label: str
    space: str
    weights: str
    native_resolution: list[int] | None


@dataclass
class GalleryIndex:
    """What a store holds for the galleries, before any array is read."""

    refs: list[_Ref] = field(default_factory=list)
    probs: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)  # (model, weights, digest) -> softmax

    @property
    def entries(self) -> int:
        return len(self.refs)


SEED_PARAMS = ("seed",)  # stochastic explainers draw a seed per case: not a different method


def _reduced(params: dict[str, Any]) -> str:
    return canonical_json({k: v for k, v in params.items() if k not in SEED_PARAMS})


def _keys(refs: list[_Ref]) -> None:
    """Column keys: the explainer's name when it ran with one parameter set (seeds aside), else name-<hash>."""
    sets: dict[str, set[str]] = defaultdict(set)
    for r in refs:
        sets[r.explainer].add(_reduced(r.params))
    for r in refs:
        if len(sets[r.explainer]) > 1:
            r.key = f"{r.explainer}-{hashlib.sha256(_reduced(r.params).encode()).hexdigest()[:8]}"


def _group(explainer: str) -> str:
    try:
        return get_explainer_cfg(explainer).group
    except (KeyError, ValueError):
        return "other"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def index_store(store: Store, *, cases: set[tuple[str, str]] | None = None) -> GalleryIndex:
    """Primary explanations (targets = top-1) of the store, one weights version per model
    (the one with the most maps), and the softmax of every stored logit row."""
    per_model: dict[str, dict[str, list[_Ref]]] = defaultdict(lambda: defaultdict(list))
    folder = Path(store.root) / "explanation"
    bar = _progress(sum(1 for _ in folder.glob("*/*.npz")) if folder.is_dir() else 0, "report: index", "entry")
    for path, f, meta in store.scan("explanation"):
        bar.update(1)
        if meta.get("targets_mode") != "pred":
            continue
        if cases is not None and (f["model"], f["explainer"]) not in cases:
            continue
        params = f.get("params", {})
        per_model[f["model"]][f["weights"]].append(
            _Ref(
                path=path,
                model=f["model"],
                explainer=f["explainer"],
                key=f["explainer"],
                params=params,
                image=f["image"],
                image_id=meta.get("image_id", f["image"]),
                target=int(f["target"]),
                label=meta.get("label"),
                family=meta.get("family", "?"),
                model_label=meta.get("model_label", f["model"]),
                space=meta.get("label_space", "imagenet"),
                weights=f["weights"],
                native_resolution=meta.get("native_resolution"),
            )
        )
    bar.close()
    out = GalleryIndex()
    for model in sorted(per_model):
        versions: list[list[_Ref]] = list(per_model[model].values())
        sizes = [len(v) for v in versions]
        out.refs += versions[sizes.index(max(sizes))]  # the weights with the most maps
    _keys(out.refs)
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for r in out.refs:  # one map per model, column and image
        if (r.model, r.key, r.image) not in seen:
            seen.add((r.model, r.key, r.image))
            unique.append(r)
    out.refs = unique
    wanted = {(r.model, r.weights, r.image) for r in out.refs}
    for path, f, _meta in store.scan("logits"):
        k = (f.get("model"), f.get("weights"), f.get("image"))
        if k in wanted and k not in out.probs:
            try:
                logits = store.arrays_at(path)["logits"].astype(np.float64)
            except (OSError, ValueError, KeyError):
                continue
            e = np.exp(logits - logits.max())
            out.probs[k] = e / e.sum()  # type: ignore[index]
    return out


class ImageLookup:
    """Decoded images by pixel digest, read from image sets (never from the store)."""

    def __init__(self, image_sets: Iterable[Any] = ()) -> None:
        self._paths: dict[str, Path] = {}
        self._by_digest: dict[str, np.ndarray] = {}
        for image_set in image_sets:
            for rec in image_set.records:
                self._paths.setdefault(rec.id, Path(rec.path))

    @classmethod
    def for_settings(cls, settings: dict[str, Any], store: Store, image_ids: set[str]) -> ImageLookup:
        """The image sets a run's ``settings`` name (``images``, ``zoo_images``), enough to cover ``image_ids``."""

        sets: list[Any] = []
        spec = str(settings.get("images", "builtin"))
        try:
            sets.append(image_set_from_spec(spec))
        except (ValueError, OSError) as exc:
            print(
                f"gallery: image set {spec!r} unavailable ({exc}); maps are drawn without their image", file=sys.stderr
            )
        for prefix, spurious in (("shapes/", False), ("shapes-spurious/", True)):
            n = sum(i.startswith(prefix) for i in image_ids)
            if n:
                have = {r.id for s in sets for r in s.records}
                if all(i in have for i in image_ids if i.startswith(prefix)):
                    continue
                zoo = int(settings["zoo_images"]) if str(settings.get("zoo_images", "")).isdigit() else 8
                sets.append(
                    shapes_images(
                        "test", max(zoo, n), spurious=spurious, root=str(Path(store.root).parent / "datasets")
                    )
                )
        return cls(sets)

    def pixels(self, image_id: str, digest: str) -> np.ndarray | None:
        """The image's RGB pixels when the file with that id still has that digest, else None."""
        if digest in self._by_digest:
            return self._by_digest[digest]
        path = self._paths.get(image_id)
        if path is None:
            return None

        try:
            px = read_image(path)
        except ImageLoadError:
            return None
        if image_digest(px) != digest:
            return None
        self._by_digest[digest] = px
        return px


def _model_view(model: str, pixels: np.ndarray, side: int) -> tuple[np.ndarray, str]:
    """The image as the model saw it (its resize and centre crop) and a key for sharing the file."""
    try:
        cfg = get_model_cfg(model)
        return resize_crop(pixels, cfg), f"{cfg.input_size}-{cfg.crop_pct:g}-{cfg.interpolation}"
    except (KeyError, ValueError):  # a model this install does not register: squash to the map's size
        return overlays.fit_image(pixels, side), f"{side}"


def _family_rank(family: str) -> tuple[int, str]:
    return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), family)


def class_name(space: str, index: int) -> str:
    """A class index as a name where the label space has names (the zoo's shapes), else ``class N``."""

    if space == LABEL_SPACE:
        if 0 <= index < len(CLASS_NAMES):
            return CLASS_NAMES[index]
    return f"class {index}"


PROGRESS_FROM = 200  # entries: smaller reports build in seconds and print no bar


def _progress(total: int, desc: str, unit: str = "map"):
    """A tqdm bar on the terminal for large stores (none when stderr is not a terminal, as for explanation work)."""

    stream = sys.__stderr__ or sys.stderr
    quiet = total < PROGRESS_FROM or not (hasattr(stream, "isatty") and stream.isatty())
    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=quiet, leave=False, mininterval=0.5)


def write_galleries(
    out: Path,
    store: Store,
    *,
    settings: dict[str, Any] | None = None,
    cases: set[tuple[str, str]] | None = None,
    lookup: ImageLookup | None = None,
    figures: bool = True,
) -> dict[str, Any]:
    """Write ``out/gallery/<set>/...`` (overlay layers and one figure per image); returns the viewer's index."""
    index = index_store(store, cases=cases)
    if lookup is None:
        lookup = ImageLookup.for_settings(settings or {}, store, {r.image_id for r in index.refs})
    root = out / "gallery"
    by_space: dict[str, list[_Ref]] = defaultdict(list)
    for r in index.refs:
        by_space[r.space].append(r)
    result: dict[str, Any] = {"normalisation": overlays.NORMALISATION, "thumb": overlays.THUMB, "sets": []}
    for space in sorted(by_space):
        result["sets"].append(_write_set(root, store, space, by_space[space], index, lookup, figures=figures))
    # the set with the most families and models first: the viewer opens on it (CNNs beside ViTs)
    result["sets"].sort(key=lambda s: (-len({m["family"] for m in s["models"]}), -len(s["models"]), s["space"]))
    return result


def _write_set(
    root: Path, store: Store, space: str, refs: list[_Ref], index: GalleryIndex, lookup: ImageLookup, *, figures: bool
) -> dict[str, Any]:
    """Write one label space's overlay layers and figures under ``root``; returns its entry in the viewer's index."""
    images = _set_images(space, refs)
    models = sorted({(r.family, r.model, r.model_label) for r in refs}, key=lambda t: (_family_rank(t[0]), t[1]))
    by_explainer: dict[str, list[_Ref]] = defaultdict(list)
    for r in refs:
        by_explainer[r.key].append(r)
    writer = _SetWriter(root / _slug(space), space, store, index, lookup, images)
    bar = _progress(len(refs), f"report: gallery {space}")
    explainers = [
        writer.column(key, by_explainer[key], bar)
        for key in sorted(by_explainer, key=lambda k: (_group(by_explainer[k][0].explainer), k))
    ]
    bar.close()
    cells = writer.cells
    figure_files: dict[str, dict[str, str]] = {}
    if figures:
        for im in images.values():
            figure_files[im["slug"]] = write_figure(
                root.parent, f"gallery/{_slug(space)}/{im['slug']}", space, im, models, explainers, cells[im["slug"]]
            )
    weights = {r.model: r.weights for r in refs}
    return {
        "space": space,
        "folder": _slug(space),
        "images": list(images.values()),
        "models": [{"name": m, "label": lab, "family": fam, "weights": weights[m]} for fam, m, lab in models],
        "explainers": explainers,
        "cells": cells,
        "figures": figure_files,
    }


def _set_images(space: str, refs: list[_Ref]) -> dict[str, dict[str, Any]]:
    """image id -> the viewer's entry for the image (slug, label and its name, pixel digest), in first-seen order."""
    images: dict[str, dict[str, Any]] = {}
    for r in refs:
        images.setdefault(
            r.image_id, {"id": r.image_id, "slug": _slug(r.image_id), "label": r.label, "digest": r.image}
        )
    for im in images.values():
        im["label_name"] = class_name(space, im["label"]) if im["label"] is not None else None
    return images


@dataclass
class _SetWriter:
    """One image set's gallery as it is written: its folder, the image views written so far, the cells filled."""

    folder: Path
    space: str
    store: Store
    index: GalleryIndex
    lookup: ImageLookup
    images: dict[str, dict[str, Any]]  # image id -> entry (see _set_images)
    cells: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))  # slug -> model
    bases: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (image slug, view key) -> files

    def _paths(self, files: dict[str, str]) -> dict[str, str]:
        """Written files as paths relative to the report's root."""
        return {k: f"gallery/{_slug(self.space)}/{v}" for k, v in files.items()}

    def column(self, key: str, group: list[_Ref], bar: tqdm) -> dict[str, Any]:
        """Write one explainer column's maps (one style for all of them); returns the column's entry."""
        arrays: list[dict[str, np.ndarray] | None] = []
        for r in group:
            try:
                arrays.append(self.store.arrays_at(r.path))
            except (OSError, ValueError, KeyError):
                arrays.append(None)
        style = overlays.style_for(group[0].explainer, [a["attribution"] for a in arrays if a is not None])
        entry = {
            "key": key,
            "name": group[0].explainer,
            "params": group[0].params,
            "group": _group(group[0].explainer),
            "signed": style.signed,
            "cmap": style.cmap,
        }
        for r, arr in zip(group, arrays):
            bar.update(1)
            if arr is not None:
                self._cell(key, r, arr, style)
        return entry

    def _cell(self, key: str, r: _Ref, arr: dict[str, np.ndarray], style: overlays.Style) -> None:
        """The model's prediction, the image it saw (once per cell) and this column's map in the image's cell."""
        im = self.images[r.image_id]
        cell = self.cells[im["slug"]].setdefault(r.model, {"maps": {}})
        probs = self.index.probs.get((r.model, r.weights, r.image))
        cell["pred"] = r.target
        cell["pred_name"] = class_name(self.space, r.target)
        cell["prob"] = float(probs[r.target]) if probs is not None and r.target < len(probs) else None
        attr = arr["attribution"]
        if "image" not in cell:
            cell["image"] = self._image(r, im["slug"], int(attr.shape[-1]))
        cell["maps"][key] = self._maps(key, r, im["slug"], arr, style)

    def _image(self, r: _Ref, slug: str, side: int) -> dict[str, str] | None:
        """The image as ``r``'s model saw it, written once per view and shared by models with the same view."""
        px = self.lookup.pixels(r.image_id, r.image)
        if px is None:
            return None
        view, view_key = _model_view(r.model, px, side)
        bkey = (slug, view_key)
        if bkey not in self.bases:
            self.bases[bkey] = self._paths(overlays.write_image(self.folder, f"{slug}/_image-{_slug(view_key)}", view))
        return self.bases[bkey]

    def _maps(self, key: str, r: _Ref, slug: str, arr: dict[str, np.ndarray], style: overlays.Style) -> dict[str, Any]:
        """The map's overlay files; a CAM's native-resolution view beside them."""
        stem = f"{slug}/{_slug(r.model)}/{_slug(key)}"
        entry: dict[str, Any] = self._paths(
            overlays.write_map(self.folder, stem, arr["attribution"], style, cache=self.store)
        )
        native = arr.get("native")
        if native is not None and _group(r.explainer) == NATIVE_GROUP and native.ndim == 2:
            files = overlays.write_map(self.folder, stem + ".native", native, style, nearest=True, cache=self.store)
            entry["native"] = self._paths(files)
            entry["native"]["resolution"] = list(native.shape)
        return entry
