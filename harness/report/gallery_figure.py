"""The static gallery figure of one image: models as rows (by family), explainers as columns.

Composed with Pillow from the overlay layers already written (no
matplotlib, so a large gallery stays cheap): first column the image the
model saw, row label the model with its prediction and probability, each
column header the explainer with its colormap, the normalisation stated
under the title.  A second figure shows the CAM family at native
resolution (nearest-neighbour upsampling, the map's size in each cell).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import overlays

CELL = 112
LABEL_W = 190
HEAD_H = 58
COL_H = 30
FAMILY_H = 18
BG = (255, 255, 255)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _read(out: Path, rel: str | None, side: int) -> np.ndarray | None:
    if not rel or not (out / rel).is_file():
        return None
    with Image.open(out / rel) as f:
        im = f.convert("RGBA")
    if im.size != (side, side):
        im = im.resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(im)


def _cell_text(draw, x: int, y: int, text: str, font) -> None:
    draw.rectangle((x, y, x + 6 * len(text) + 4, y + 12), fill=(0, 0, 0))
    draw.text((x + 2, y), text, fill=(255, 255, 255), font=font)


def write_figure(
    out: Path,
    stem: str,
    space: str,
    image: dict[str, Any],
    models: list[tuple[str, str, str]],
    explainers: list[dict[str, Any]],
    cells: dict[str, dict[str, Any]],
) -> dict[str, str]:
    """Write ``<stem>.webp`` (all explainers) and, when CAM maps have a native map, ``<stem>.native.webp``."""
    files = {"grid": f"{stem}.webp"}
    _compose(out, out / files["grid"], space, image, models, explainers, cells, native=False)
    cams = [e for e in explainers if any("native" in c["maps"].get(e["key"], {}) for c in cells.values())]
    if cams:
        files["native"] = f"{stem}.native.webp"
        _compose(out, out / files["native"], space, image, models, cams, cells, native=True)
    return files


def _compose(
    out: Path,
    path: Path,
    space: str,
    image: dict[str, Any],
    models: list[tuple[str, str, str]],
    explainers: list[dict[str, Any]],
    cells: dict[str, dict[str, Any]],
    *,
    native: bool,
) -> None:
    rows = [m for m in models if m[1] in cells]
    families = []
    for fam, _, _ in rows:
        if fam not in families:
            families.append(fam)
    width = LABEL_W + CELL * (1 + len(explainers))
    height = HEAD_H + COL_H + FAMILY_H * len(families) + CELL * len(rows) + 4
    canvas = Image.new("RGB", (max(width, 640), height), BG)
    draw = ImageDraw.Draw(canvas)
    big, small = _font(14), _font(10)
    truth = f" (label: {image['label_name']})" if image.get("label_name") else ""
    title = f"{image['id']}{truth}: {'CAM family at native resolution' if native else 'explanations'} [{space}]"
    draw.text((6, 4), title, fill=(0, 0, 0), font=big)
    norm = "the map before its upsampling, shown blockwise (nearest neighbour); " if native else ""
    text = norm + overlays.NORMALISATION
    for i in range(0, len(text), 150):
        draw.text((6, 24 + 11 * (i // 150)), text[i : i + 150], fill=(60, 60, 60), font=small)
    y0 = HEAD_H
    draw.text((LABEL_W + 4, y0 + 4), "image", fill=(0, 0, 0), font=small)
    for j, e in enumerate(explainers):
        x = LABEL_W + CELL * (1 + j)
        draw.text((x + 4, y0 + 2), e["key"] + (" native" if native else ""), fill=(0, 0, 0), font=small)
        draw.text((x + 4, y0 + 14), e["cmap"] + (" (signed)" if e["signed"] else ""), fill=(90, 90, 90), font=small)
    y = y0 + COL_H
    current = None
    for fam, model, label in rows:
        if fam != current:
            current = fam
            draw.rectangle((0, y, width, y + FAMILY_H - 2), fill=(225, 230, 240))
            draw.text((6, y + 3), f"family: {fam}", fill=(0, 0, 0), font=small)
            y += FAMILY_H
        _draw_row(out, canvas, draw, y, label, cells[model], explainers, native=native, fonts=(big, small))
        y += CELL
    overlays.write_webp(path, np.asarray(canvas))


def _draw_row(
    out: Path,
    canvas: Image.Image,
    draw: ImageDraw.ImageDraw,
    y: int,
    label: str,
    cell: dict[str, Any],
    explainers: list[dict[str, Any]],
    *,
    native: bool,
    fonts: tuple[Any, Any],
) -> None:
    """One model's row at height ``y``: its label and prediction, the image, one overlay per explainer."""
    big, small = fonts
    prob = cell.get("prob")
    pred = f"{cell.get('pred_name', '?')}" + (f" p={prob:.2f}" if prob is not None else "")
    draw.text((6, y + 30), label, fill=(0, 0, 0), font=big)
    draw.text((6, y + 50), f"pred: {pred}", fill=(40, 40, 40), font=small)
    base = _read(out, (cell.get("image") or {}).get("thumb"), CELL)
    if base is not None:
        canvas.paste(Image.fromarray(base[..., :3]), (LABEL_W, y))
    for j, e in enumerate(explainers):
        entry = cell["maps"].get(e["key"])
        if entry is None:
            continue
        layer = entry.get("native") if native else entry
        rgba = _read(out, (layer or {}).get("thumb"), CELL)
        if rgba is None:
            continue
        x = LABEL_W + CELL * (1 + j)
        rgb = overlays.blend(None if base is None else base[..., :3], rgba)
        canvas.paste(Image.fromarray(rgb), (x, y))
        if native and layer is not None:
            h, w = layer.get("resolution", ["?", "?"])
            _cell_text(draw, x + 2, y + 2, f"{h}x{w}", small)
