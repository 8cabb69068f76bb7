"""Image records and sets: what an image is, where it came from, how to read it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class ImageLoadError(ValueError):
    """An image file could not be decoded; the message names the file."""


@dataclass(frozen=True)
class ImageRecord:
    """One image with its label(s), provenance and licence.

    ``label`` is the primary class; ``also`` lists other classes that are
    equally right for a hand-labelled photo (a tabby is also a tiger cat).
    """

    id: str
    path: Path
    label: int | None = None
    also: tuple[int, ...] = ()
    source: str = ""
    licence: str = ""
    label_space: str = "imagenet"
    mask: Path | None = None  # ground-truth object mask (same size as the image), where known

    def accepts(self, predicted: int) -> bool:
        """Whether ``predicted`` counts as correct for this image."""
        return self.label is not None and (predicted == self.label or predicted in self.also)


@dataclass(frozen=True)
class ImageSet:
    """A named, ordered collection of :class:`ImageRecord`.

    ``classes`` names the labels (index -> class name) of a set in a label
    space of its own, such as an ``ImageFolder`` with class-name folders.
    """

    name: str
    records: tuple[ImageRecord, ...] = field(default=())
    classes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def head(self, n: int | None) -> ImageSet:
        return self if n is None else ImageSet(self.name, self.records[:n], self.classes)

    @property
    def labelled(self) -> tuple[ImageRecord, ...]:
        return tuple(r for r in self.records if r.label is not None)


def read_image(path: Path) -> np.ndarray:
    """Decode ``path`` to an RGB ``uint8`` array ``[H, W, 3]``.

    Raises :class:`ImageLoadError` naming the file for anything unreadable.
    """

    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise ImageLoadError(f"cannot read image {path}: {exc}") from exc


def read_mask(path: Path) -> np.ndarray:
    """Decode a mask image to ``bool [H, W]`` (non-zero is object: 0/255 masks and label-index masks alike)."""

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L")) > 0
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise ImageLoadError(f"cannot read mask {path}: {exc}") from exc


def image_digest(pixels: np.ndarray) -> str:
    """Content hash of decoded pixels (shape included), for store keys."""
    h = hashlib.sha256(str(pixels.shape).encode())
    h.update(np.ascontiguousarray(pixels).tobytes())
    return h.hexdigest()[:16]
