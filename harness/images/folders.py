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

from PIL import Image

from .records import IMAGE_SUFFIXES, ImageRecord, ImageSet

_SYNSET = re.compile(r"^n\d{8}$")


@lru_cache(maxsize=1)
def synset_to_index() -> dict[str, int]:
    from timm.data import ImageNetInfo  # lazy: timm takes ~3 s to import

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


class MaskMismatch(ValueError):
    """An image of a masked folder has no mask, or one of another size; the message names the image."""


def parallel_masks(root: str | Path) -> Path | None:
    """The ``masks/`` folder beside an ImageFolder (``data/val`` -> ``data/masks``), if there is one."""
    candidate = Path(root).expanduser().parent / "masks"
    return candidate if candidate.is_dir() else None


def mask_for(image: Path, root: Path, masks: Path) -> Path:
    """The mask of ``image``: the same relative path under ``masks``, as PNG (nonzero = object).

    Raises :class:`MaskMismatch` naming the image when the mask is missing or its size is not the image's.
    """
    rel = image.relative_to(root)
    mask = (masks / rel).with_suffix(".png")
    if not mask.is_file():
        raise MaskMismatch(f"image {image} has no mask: expected {mask} (same relative path, PNG, nonzero = object)")
    with Image.open(image) as im, Image.open(mask) as m:
        if im.size != m.size:
            raise MaskMismatch(
                f"mask {mask} is {m.size[0]}x{m.size[1]} px, its image {image} is {im.size[0]}x{im.size[1]} px"
            )
    return mask


class ClassMismatch(ValueError):
    """An image folder's classes are not the model's; the message names both."""


def folder_classes(root: str | Path) -> tuple[str, ...]:
    """Class names of an ``ImageFolder`` layout: its sub-folders, sorted (as torchvision does)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist")
    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")))


def check_classes(
    model: str, model_classes: tuple[str, ...], root: str | Path, found: tuple[str, ...], *, subset_ok: bool = False
) -> None:
    """Raise :class:`ClassMismatch` naming both class lists unless the folder's classes are the model's.

    ``subset_ok`` accepts a folder holding only some of the model's classes.
    """
    extra = [c for c in found if c not in model_classes]
    missing = [c for c in model_classes if c not in found]
    if extra or (missing and not subset_ok):
        why = "; ".join(
            part
            for part in (
                f"only in the folder: {extra}" if extra else "",
                f"only in the model: {missing}" if missing else "",
            )
            if part
        )
        raise ClassMismatch(
            f"classes of model {model} {list(model_classes)} do not match the class folders of {root} "
            f"{list(found)}: {why}"
        )


def class_folder(
    root: str | Path,
    *,
    classes: tuple[str, ...] | None = None,
    model: str = "",
    label_space: str | None = None,
    name: str | None = None,
    subset_ok: bool = False,
    licence: str = "",
    masks: str | Path | None = None,
) -> ImageSet:
    """An ``ImageFolder`` layout (``root/<class name>/*.png``) as a labelled image set.

    Labels index ``classes`` (the model's class names, in its output order)
    when given, else the sorted folder names; the folders are checked against
    ``classes`` (:func:`check_classes`).  The records' label space is
    ``label_space`` (default: the set's name), so a model of that label space
    sees this set.  ``masks`` is a folder of object masks with the images' relative paths
    (:func:`mask_for`); every image must have one.
    """
    root = Path(root).expanduser()
    mask_root = Path(masks).expanduser() if masks is not None else None
    if mask_root is not None and not mask_root.is_dir():
        raise FileNotFoundError(f"mask folder {mask_root} of image folder {root} does not exist")
    found = folder_classes(root)
    if not found:
        raise FileNotFoundError(f"no class folders under {root} (ImageFolder layout: {root}/<class>/<image>)")
    if classes is not None:
        check_classes(model or "?", tuple(classes), root, found, subset_ok=subset_ok)
    names = tuple(classes) if classes is not None else found
    set_name = name or root.name
    space = label_space or set_name
    records = []
    for cls in found:
        for path in _images_under(root / cls):
            rel = path.relative_to(root).with_suffix("")
            records.append(
                ImageRecord(
                    id=f"{set_name}/{rel.as_posix()}",
                    path=path,
                    label=names.index(cls),
                    source=f"image folder {root}",
                    licence=licence,
                    label_space=space,
                    mask=mask_for(path, root, mask_root) if mask_root is not None else None,
                )
            )
    if not records:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in the class folders of {root}")
    return ImageSet(set_name, tuple(records), names)
