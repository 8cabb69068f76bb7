"""The viewer's interventions panel: a ``shapes`` image, its re-renders and each model's logit drops.

For every image the galleries show that has stored intervention effects (kind ``intervention``,
:func:`harness.zoo.effects.measure_effects`), the panel holds

* one small JPEG per render: the original and each intervention of
  :func:`~harness.zoo.interventions.interventions_for`, re-rendered from the stored scene
  (deterministic) and written under ``gallery/<set>/<image>/interventions/``; the files are kept
  in the store like the overlay layers (:mod:`~harness.report.kept`), so a warm rebuild copies
  them instead of rendering again;
* per model (the weights the gallery shows): the predicted class and its logit on the original,
  and the drop of that logit under each intervention (``logit(original) - logit(intervened)``,
  logit units), from the stored logits.  A drop larger than ``EPS_REL`` of the logit is *large*:
  the same line the ``check_intervention_usage`` case draws.

A stored scene belongs to a gallery image when its original render has the image's pixel digest
(the digest the explanations are keyed by), so the seed, split and index all match.  An entry
that cannot be read, or whose scene cannot be re-rendered, is left out with one line in
``notes``; the rest of the report is written.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..checks.interventions import EPS_REL
from ..compute.replay import code_digest
from ..compute.store import Store
from ..core.atomic import write_atomic
from ..images import image_digest
from ..zoo.effects import EFFECTS_VERSION, KIND, SceneRef, renders
from ..zoo.interventions import interventions_for
from ..zoo.shapes import SET_NAMES, render, sample_id, sample_label
from .gallery import class_name
from .kept import keep_files, restore_files

RENDERS_KIND = "intervention_renders"  # store entries holding a scene's encoded re-renders
SIDE = 160  # px of each render's file (the gallery's thumbnail size)
JPEG_QUALITY = 85
FOLDER = "interventions"  # under the image's gallery folder
PREFIXES = tuple(f"{name}/" for name in SET_NAMES.values())  # ids of shapes_images
NOTES_SHOWN = 5  # bad entries named one per line; the rest counted in one more line


@dataclass
class _Stored:
    """One readable ``intervention`` entry, matched to a gallery image."""

    ref: SceneRef
    model: str
    names: tuple[str, ...]
    logits: np.ndarray  # [1 + len(names), classes]
    written: float  # the entry file's mtime


@dataclass
class _Scan:
    by_image: dict[str, list[_Stored]] = field(default_factory=lambda: defaultdict(list))  # digest -> entries
    refs: dict[str, SceneRef] = field(default_factory=dict)  # digest -> scene
    bad: list[str] = field(default_factory=list)


def candidate_id(ref: SceneRef) -> str:
    """The id :func:`~harness.zoo.shapes.shapes_images` gives ``ref``'s sample (seed aside)."""
    label = sample_label(ref.seed, ref.split, ref.index, spurious=ref.spurious)
    return sample_id(ref.split, ref.index, label, spurious=ref.spurious)


def _identify(ref: SceneRef) -> tuple[str, tuple[str, ...]]:
    """The pixel digest of ``ref``'s original render (one render, not every intervention's) and its
    interventions."""
    scene = ref.scene()
    return image_digest(render(scene)), interventions_for(scene)


def _scan(store: Store, shown: dict[str, str], weights: dict[str, str]) -> _Scan:
    """Entries for the gallery's images (``shown``: image id -> digest) and models (``weights``: model -> sha)."""
    out = _Scan()
    folder = Path(store.root) / KIND
    readable = {path: (f, meta) for path, f, meta in store.scan(KIND)}
    every = sorted(folder.glob("*/*.npz")) if folder.is_dir() else []
    out.bad += [f"{p.name}: unreadable" for p in every if p not in readable]
    checked: dict[SceneRef, tuple[str, tuple[str, ...]] | None] = {}  # scene -> (image digest, interventions)
    for path, (f, _meta) in readable.items():
        model = f.get("model") or {}
        name = str(model.get("model"))
        if name not in weights or model.get("weights") != weights[name] or f.get("version") != EFFECTS_VERSION:
            continue  # a model or weights version the gallery does not show, or effects of an older harness
        try:
            ref = SceneRef(**f["scene"])
            image_id = candidate_id(ref)
            if image_id not in shown:
                continue
            if ref not in checked:
                digest, expected = _identify(ref)
                checked[ref] = (digest, expected) if digest == shown[image_id] else None
            match = checked[ref]
            if match is None:
                continue  # same id, other pixels (another seed): not this image
            names = tuple(f["interventions"])
            if names != match[1]:
                raise ValueError(f"stored for interventions {list(names)}; the scene now has {list(match[1])}")
            logits = np.asarray(store.arrays_at(path)["logits"], dtype=np.float64)
            if logits.ndim != 2 or logits.shape[0] != len(names) + 1:
                raise ValueError(f"logits of shape {logits.shape} for {len(names)} interventions")
        except Exception as exc:  # one bad entry never takes the panel down
            scene = f.get("scene")
            out.bad.append(f"{path.name} ({model.get('model')}, scene {scene}): {type(exc).__name__}: {exc}")
            continue
        out.refs[match[0]] = ref
        out.by_image[match[0]].append(_Stored(ref, name, names, logits, path.stat().st_mtime))
    for digest, entries in out.by_image.items():  # one row per model: its latest entry (e.g. after an upgrade)
        latest = {e.model: e for e in sorted(entries, key=lambda e: e.written)}
        out.by_image[digest] = list(latest.values())
    return out


def _jpeg(pixels: np.ndarray) -> bytes:
    im = Image.fromarray(pixels).convert("RGB")
    if im.size != (SIDE, SIDE):
        im = im.resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def write_renders(folder: Path, ref: SceneRef, digest: str, store: Store | None) -> list[dict[str, str]]:
    """The original and intervened renders of ``ref`` as JPEGs in ``folder``; ``[{name, file}]`` (file
    relative to ``folder``).  Kept in ``store`` keyed by the scene, the image digest and the code."""
    names = ("original", *interventions_for(ref.scene()))
    files = [f"{n}.jpg" for n in names]
    fields = {
        "scene": asdict(ref),
        "image": digest,
        "names": list(names),
        "version": EFFECTS_VERSION,
        "side": SIDE,
        "quality": JPEG_QUALITY,
        "code": code_digest(),
    }
    if store is None or restore_files(store, RENDERS_KIND, fields, folder) is None:
        for name, pixels in zip(files, renders(ref)):
            write_atomic(folder / name, _jpeg(pixels), sync=False)
        if store is not None:
            keep_files(store, RENDERS_KIND, fields, folder, files)
    return [{"name": n, "file": f} for n, f in zip(names, files)]


def _model_rows(entries: list[_Stored], space: str, labels: dict[str, str], order: list[str]) -> list[dict[str, Any]]:
    rows = []
    for e in sorted(entries, key=lambda e: order.index(e.model)):
        target = int(e.logits[0].argmax())
        logit = float(e.logits[0, target])
        drops = e.logits[0, target] - e.logits[1:, target]
        rows.append(
            {
                "model": e.model,
                "label": labels.get(e.model, e.model),
                "pred": target,
                "pred_name": class_name(space, target),
                "logit": round(logit, 4),
                "drops": {n: round(float(d), 4) for n, d in zip(e.names, drops)},
                "large": [n for n, d in zip(e.names, drops) if abs(d) > EPS_REL * max(abs(logit), 1e-6)],
            }
        )
    return rows


def add_interventions(out: Path, store: Store, gallery: dict[str, Any], notes: list[str] | None = None) -> int:
    """Add ``interventions`` (image slug -> panel) to each of ``gallery``'s sets; returns the panels written.

    Images without stored interventions get no entry (the viewer shows no panel for them)."""
    panels = 0
    bad: list[str] = []
    for s in gallery.get("sets", []):
        shown = {im["id"]: im["digest"] for im in s["images"] if im.get("digest")}
        weights = {m["name"]: m["weights"] for m in s["models"] if m.get("weights")}
        if not shown or not weights or not any(i.startswith(PREFIXES) for i in shown):
            continue
        scan = _scan(store, shown, weights)
        bad += scan.bad
        labels = {m["name"]: m["label"] for m in s["models"]}
        order = [m["name"] for m in s["models"]]
        folder = out / "gallery" / s["folder"]
        s["interventions"] = {}
        for im in s["images"]:
            digest = im.get("digest")
            if digest not in scan.by_image:
                continue
            ref = scan.refs[digest]
            sub = f"{im['slug']}/{FOLDER}"
            try:
                files = write_renders(folder / sub, ref, digest, store)
            except Exception as exc:  # a scene that no longer renders: no panel, one note
                bad.append(f"scene {asdict(ref)} of {im['id']}: {type(exc).__name__}: {exc}")
                continue
            s["interventions"][im["slug"]] = {
                "scene": asdict(ref),
                "renders": [{"name": r["name"], "file": f"gallery/{s['folder']}/{sub}/{r['file']}"} for r in files],
                "models": _model_rows(scan.by_image[digest], s["space"], labels, order),
                "eps_rel": EPS_REL,
            }
            panels += 1
    if notes is not None:
        # the same entry is seen once per set it could belong to: name it once
        unique = list(dict.fromkeys(bad))
        notes += [f"report: interventions: entry left out: {b}" for b in unique[:NOTES_SHOWN]]
        if len(unique) > NOTES_SHOWN:
            notes.append(f"report: interventions: {len(unique) - NOTES_SHOWN} more entries left out")
    return panels
