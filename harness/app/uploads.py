"""What the app explains: an uploaded file, checked before anything is decoded, or a built-in/zoo image.

An upload is read with Pillow in two steps: the header first (format and
size, no pixels), so a file that is not an image, or is too small or too
large, is turned away with a message before any decoding; then the pixels,
so a truncated file is caught too.  Every refusal is an :class:`UploadError`
whose message names the file and says what to do; the app shows it in the
page and keeps serving.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..images import ImageLoadError, ImageRecord, builtin_images, image_digest, read_image
from ..zoo import shapes_images

MIN_SIDE = 16  # px: below this no model input means anything (a 1x1 image is one colour)
MAX_SIDE = 8192  # px: a 10,000 px panorama would be resized to a 26,000 x 256 strip first
MAX_BYTES = 50 * 1024 * 1024  # what the server accepts per upload (``launch(max_file_size=...)``)
ZOO_PICKS = 8  # one shapes test image per class, with its ground-truth mask


class UploadError(ValueError):
    """An upload the app cannot explain; the message names the file and the reason."""


@dataclass(frozen=True)
class Picture:
    """One image to explain: decoded pixels, their digest (the store key) and what is known about it."""

    id: str
    name: str
    pixels: np.ndarray  # uint8 [H, W, 3]
    digest: str
    label: int | None = None
    label_space: str = ""
    mask: Path | None = None

    @property
    def record(self) -> ImageRecord:
        """The picture as the runner's image record (label and mask included)."""
        return ImageRecord(
            id=self.id,
            path=Path(self.name),
            label=self.label,
            label_space=self.label_space or "imagenet",
            mask=self.mask,
        )


def read_upload(path: str | Path) -> Picture:
    """Check and decode an uploaded file; raises :class:`UploadError` naming it."""

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise UploadError(f"{name}: no such file was received")
    size = path.stat().st_size
    if size == 0:
        raise UploadError(f"{name}: the file is empty")
    if size > MAX_BYTES:
        raise UploadError(f"{name}: {size / 2**20:.0f} MiB is over the {MAX_BYTES // 2**20} MiB limit")
    try:
        with Image.open(path) as im:  # reads the header only
            width, height = im.size
            fmt = im.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        why = str(exc).replace(str(path), name)  # the server's temporary path is no business of the page
        raise UploadError(f"{name}: not an image Pillow can read (PNG, JPEG, WebP, BMP, TIFF ...): {why}") from exc
    if min(width, height) < MIN_SIDE:
        raise UploadError(f"{name}: {width}x{height} px is too small; the app needs at least {MIN_SIDE} px per side")
    if max(width, height) > MAX_SIDE:
        raise UploadError(
            f"{name}: {width}x{height} px is too large; the app takes up to {MAX_SIDE} px per side "
            "(resize or crop it first)"
        )
    try:
        pixels = read_image(path)
    except ImageLoadError as exc:
        raise UploadError(
            f"{name}: the {fmt or 'image'} file is damaged or truncated ({exc.__cause__ or exc})"
        ) from exc
    digest = image_digest(pixels)
    return Picture(id=f"upload/{digest}", name=name, pixels=pixels, digest=digest)


@dataclass(frozen=True)
class Pick:
    """A built-in or zoo image offered in the page: its id and where it is."""

    id: str
    path: Path
    label: int | None
    label_space: str
    mask: Path | None


@lru_cache(maxsize=1)
def picks() -> tuple[Pick, ...]:
    """The built-in photos, then one zoo ``shapes`` test image per class (with its mask)."""

    records = list(builtin_images().records) + list(shapes_images("test", ZOO_PICKS).records)
    return tuple(Pick(r.id, r.path, r.label, r.label_space, r.mask) for r in records)


def read_pick(pick_id: str) -> Picture:
    """Decode a built-in or zoo image by id; raises :class:`UploadError` for an unknown one."""
    found = {p.id: p for p in picks()}.get(pick_id)
    if found is None:
        raise UploadError(f"{pick_id}: not one of the built-in or zoo images")
    try:
        pixels = read_image(found.path)
    except ImageLoadError as exc:
        raise UploadError(f"{pick_id}: {exc}") from exc
    return Picture(
        id=found.id,
        name=found.id,
        pixels=pixels,
        digest=image_digest(pixels),
        label=found.label,
        label_space=found.label_space,
        mask=found.mask,
    )
