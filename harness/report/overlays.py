"""Saliency maps as pictures: normalisation, colormaps and overlay files at display size.

A map is *signed* when its explainer is not rectified (``ExplainerCfg.rectified``)
and its values go below zero (IG, LRP, KernelSHAP, LIME, occlusion, CAM):
it is drawn with a diverging colormap centred on zero.  Rectified and
non-negative maps (Grad-CAM, rollout, saliency) use a sequential one.

Normalisation, stated on every figure (:data:`NORMALISATION`): per map, the
99th percentile of ``|x|`` (signed) or of ``x - min`` (sequential) maps to
the end of the colormap and larger values are clipped.  The overlay's
alpha follows the normalised magnitude, so the image shows through where
the map is near zero.

Files are written at display size: a :data:`THUMB` px thumbnail and a
full-size image at the model's input resolution, as WebP with alpha (small,
and read by every current browser).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..compute.replay import code_digest
from ..compute.store import Store
from ..core.atomic import write_atomic
from ..explainers import get_explainer_cfg
from .kept import keep_files, restore_files

THUMB = 160
OVERLAY_KIND = "overlay"  # store entries holding encoded overlay layers (see write_map)
CLIP_PERCENTILE = 99.0
DIVERGING = "RdBu_r"
SEQUENTIAL = "inferno"
NORMALISATION = (
    f"per-map {CLIP_PERCENTILE:g}th-percentile clip: signed maps x / p{CLIP_PERCENTILE:g}(|x|) in [-1, 1] "
    f"({DIVERGING}, 0 = white), others (x - min) / p{CLIP_PERCENTILE:g}(x - min) in [0, 1] ({SEQUENTIAL}); "
    "alpha = sqrt(|value|)"
)
WEBP_QUALITY = 75
WEBP_ALPHA_QUALITY = 60  # the alpha plane, lossless by default, is most of a noisy map's bytes
NEGATIVE_FLOOR = 1e-6  # a map whose most negative value is above -floor * max|x| counts as non-negative


@dataclass(frozen=True)
class Style:
    """How one explainer's maps are drawn."""

    signed: bool

    @property
    def cmap(self) -> str:
        return DIVERGING if self.signed else SEQUENTIAL

    @property
    def label(self) -> str:
        return "signed, diverging" if self.signed else "sequential"


def style_for(explainer: str, maps: list[np.ndarray]) -> Style:
    """Signed when the explainer is not rectified and any of its maps goes below zero."""
    rectified = False
    try:
        rectified = get_explainer_cfg(explainer).rectified
    except (KeyError, ValueError):  # an explainer this install does not register: judge by the values
        pass
    if rectified:
        return Style(signed=False)
    for m in maps:
        scale = float(np.nanmax(np.abs(m))) if m.size else 0.0
        if scale > 0 and float(np.nanmin(m)) < -NEGATIVE_FLOOR * scale:
            return Style(signed=True)
    return Style(signed=False)


def normalise(attr: np.ndarray, style: Style) -> np.ndarray:
    """``attr`` to [-1, 1] (signed) or [0, 1] (sequential) by the per-map percentile clip; NaN to 0."""
    a = np.nan_to_num(np.asarray(attr, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if style.signed:
        hi = float(np.percentile(np.abs(a), CLIP_PERCENTILE)) if a.size else 0.0
        hi = hi if hi > 0 else float(np.abs(a).max(initial=0.0))
        return np.clip(a / hi, -1.0, 1.0) if hi > 0 else np.zeros_like(a)
    shifted = a - a.min() if a.size else a
    hi = float(np.percentile(shifted, CLIP_PERCENTILE)) if a.size else 0.0
    hi = hi if hi > 0 else float(shifted.max(initial=0.0))
    return np.clip(shifted / hi, 0.0, 1.0) if hi > 0 else np.zeros_like(a)


def _colormap(name: str):
    import matplotlib  # lazy: matplotlib takes ~0.2-0.8 s to import

    return matplotlib.colormaps[name]


def colorize(norm: np.ndarray, style: Style) -> np.ndarray:
    """Normalised map to ``uint8 [H, W, 4]`` RGBA, alpha = sqrt(|value|)."""
    cmap = _colormap(style.cmap)
    pos = (norm + 1.0) / 2.0 if style.signed else norm
    rgba = cmap(pos)
    rgba[..., 3] = np.sqrt(np.abs(norm))
    return (rgba * 255 + 0.5).astype(np.uint8)


def resize_rgba(rgba: np.ndarray, side: int, *, nearest: bool = False) -> np.ndarray:
    im = Image.fromarray(rgba)
    if im.size != (side, side):
        im = im.resize((side, side), Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR)
    return np.asarray(im)


def blend(image: np.ndarray | None, rgba: np.ndarray, opacity: float = 1.0) -> np.ndarray:
    """RGB ``image`` under ``rgba`` (same size), with the map's alpha scaled by ``opacity``."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0 * opacity
    base = np.full(rgba.shape[:2] + (3,), 128, np.float32) if image is None else image.astype(np.float32)
    out = base * (1 - alpha) + rgba[..., :3].astype(np.float32) * alpha
    return (out + 0.5).astype(np.uint8)


def fit_image(pixels: np.ndarray, side: int) -> np.ndarray:
    """An RGB image resized to ``side`` x ``side`` (already the model's view, so square)."""

    im = Image.fromarray(pixels)
    if im.size != (side, side):
        im = im.resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(im.convert("RGB"))


def write_webp(path: Path, pixels: np.ndarray, *, lossless: bool = False) -> int:
    """Write RGB or RGBA ``pixels`` as WebP (lossy unless ``lossless``); returns the bytes written."""

    image = Image.fromarray(pixels)
    write_atomic(
        path,
        lambda tmp: image.save(
            tmp, format="WEBP", quality=WEBP_QUALITY, alpha_quality=WEBP_ALPHA_QUALITY, method=4, lossless=lossless
        ),
        sync=False,  # many small layers that a rerun rewrites: atomic against readers, no fsync each
    )
    return path.stat().st_size


def write_map(
    folder: Path, stem: str, attr: np.ndarray, style: Style, *, nearest: bool = False, cache: Store | None = None
) -> dict[str, str]:
    """Thumbnail and full-size overlay layers of one map; returns their file names (relative to ``folder``).

    ``nearest`` upsamples blockily (the native-resolution view of a CAM map).  With a ``cache`` store the
    encoded layers are kept as an ``overlay`` entry keyed by a digest of the map, the style and the
    harness's code: a later report of the same map copies them instead of encoding them again.
    """
    files = {"thumb": f"{stem}.t.webp", "full": f"{stem}.f.webp"}
    fields = None
    if cache is not None:
        digest = hashlib.sha256(np.ascontiguousarray(attr).tobytes() + str((attr.shape, attr.dtype)).encode())
        fields = {"map": digest.hexdigest(), "signed": style.signed, "nearest": nearest, "code": code_digest()}
        if restore_files(cache, OVERLAY_KIND, fields, folder) is not None:
            return files
    rgba = colorize(normalise(attr, style), style)
    full_side = max(THUMB, int(max(attr.shape))) if not nearest else THUMB * 2
    # blocks of a native map stay exact (lossless; they compress to little anyway)
    write_webp(folder / files["thumb"], resize_rgba(rgba, THUMB, nearest=nearest), lossless=nearest)
    write_webp(folder / files["full"], resize_rgba(rgba, full_side, nearest=nearest), lossless=nearest)
    if cache is not None and fields is not None:
        keep_files(cache, OVERLAY_KIND, fields, folder, list(files.values()))
    return files


def write_image(folder: Path, stem: str, pixels: np.ndarray) -> dict[str, str]:
    """Thumbnail and full-size of the image a model saw."""
    files = {"thumb": f"{stem}.t.webp", "full": f"{stem}.f.webp"}
    write_webp(folder / files["thumb"], fit_image(pixels, THUMB))
    write_webp(folder / files["full"], fit_image(pixels, max(THUMB, pixels.shape[0])))
    return files
