"""Loaders for image directories: Imagenette and a generic folder.

Imagenette (and full ImageNet) folders are named by WordNet synset
(``n01440764``); those are mapped to ImageNet-1k indices with timm's
``ImageNetInfo``.  A generic folder may hold images directly, or in class
sub-folders named by synset or by integer index.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .records import IMAGE_SUFFIXES, ImageRecord, ImageSet

_SYNSET = re.compile(r"^n\d{8}$")


@lru_cache(maxsize=1)
def synset_to_index() -> dict[str, int]:
    from timm.data import ImageNetInfo

    return {s: i for i, s in enumerate(ImageNetInfo().label_names())}


def _label_for(folder_name: str) -> int | None:
    if _SYNSET.match(folder_name):
        idx = synset_to_index().get(folder_name)
        if idx is None:
            raise ValueError(f"folder {folder_name!r} is not an ImageNet-1k synset")
        return idx
    if folder_name.isdigit():
        return int(folder_name)
    return None


def _images_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def image_folder(root: str | Path, *, name: str | None = None, source: str = "", licence: str = "") -> ImageSet:
    """Every image below ``root``; labels from synset/integer parent folders."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist")
    records = []
    for path in _images_under(root):
        label = _label_for(path.parent.name) if path.parent != root else None
        rel = path.relative_to(root).with_suffix("")
        records.append(
            ImageRecord(
                id=f"{name or root.name}/{rel.as_posix()}",
                path=path,
                label=label,
                source=source or f"folder {root}",
                licence=licence,
            )
        )
    if not records:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}")
    return ImageSet(name or root.name, tuple(records))


def imagenette(root: str | Path, *, split: str = "val", per_class: int | None = None) -> ImageSet:
    """An Imagenette (or ImageNet-style) directory: ``root/<split>/<synset>/*.JPEG``.

    ``per_class`` keeps the first N images of each class, in sorted order.
    """
    root = Path(root).expanduser()
    base = root / split if (root / split).is_dir() else root
    classes = sorted(p for p in base.iterdir() if p.is_dir() and _SYNSET.match(p.name)) if base.is_dir() else []
    if not classes:
        raise FileNotFoundError(f"no synset folders (n01440764, ...) under {base}")
    records: list[ImageRecord] = []
    for folder in classes:
        label = _label_for(folder.name)
        files = _images_under(folder)[:per_class]
        records.extend(
            ImageRecord(
                id=f"imagenette/{split}/{folder.name}/{p.stem}",
                path=p,
                label=label,
                source=f"Imagenette at {root}",
                licence="see the Imagenette/ImageNet terms",
            )
            for p in files
        )
    return ImageSet(f"imagenette-{split}", tuple(records))
