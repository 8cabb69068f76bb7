"""Image sets by name: ``builtin``, ``foolbox``, ``imagenette:PATH``, ``folder:PATH``, ``shapes[:SPLIT[:N]]``.

A spec is ``kind`` or ``kind:argument``; each kind is an image source in
:data:`IMAGE_SOURCES` (one :class:`~harness.core.registry.Registry`), a
function ``argument -> ImageSet``.  The harness registers its own sources
here; a user registers more with :func:`register_image_source`.  This
module sits above :mod:`harness.images` and :mod:`harness.zoo`, so neither
imports the other to resolve a spec.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.registry import Registry
from ..images import ImageSet, builtin_images, class_folder, foolbox_images, image_folder, imagenette
from ..zoo.shapes import LABEL_SPACE, shapes_images

ImageSource = Callable[[str], ImageSet]
IMAGE_SOURCES: Registry[ImageSource] = Registry("image set", hint="see `python -m harness list images --help`")


# label space -> the image set models of that label space see (a user's ImageFolder, bound by harness.cases.project)
LABEL_SPACE_SETS: dict[str, Callable[[], ImageSet]] = {}
# the bound label spaces whose images carry object masks (their models get the localisation checks)
_MASKED: set[str] = set()


def bind_label_space(space: str, factory: Callable[[], ImageSet], *, masks: bool = False) -> None:
    """Models whose ``label_space`` is ``space`` see ``factory()`` in every run (a user's own classes);
    ``masks``: its records carry object masks."""
    LABEL_SPACE_SETS[space] = factory
    if masks:
        _MASKED.add(space)
    else:
        _MASKED.discard(space)


def unbind_label_space(space: str) -> None:
    LABEL_SPACE_SETS.pop(space, None)
    _MASKED.discard(space)


def masked_label_spaces() -> frozenset[str]:
    """The bound label spaces whose image sets carry object masks."""
    return frozenset(_MASKED)


def register_image_source(kind: str):
    """Decorator: ``fn(argument: str) -> ImageSet`` answers specs ``kind`` and ``kind:argument``."""

    def deco(fn: ImageSource) -> ImageSource:
        IMAGE_SOURCES.add(kind, fn)
        return fn

    return deco


def _no_argument(kind: str, arg: str) -> None:
    if arg:
        raise ValueError(f"image set {kind!r} takes no argument, got {kind}:{arg}")


def _needs_path(kind: str, arg: str) -> None:
    if not arg:
        raise ValueError(f"image set {kind!r} needs a folder: {kind}:PATH")


@register_image_source("builtin")
def _builtin(arg: str) -> ImageSet:
    _no_argument("builtin", arg)
    return builtin_images()


@register_image_source("foolbox")
def _foolbox(arg: str) -> ImageSet:
    _no_argument("foolbox", arg)
    return foolbox_images()


@register_image_source("imagenette")
def _imagenette(arg: str) -> ImageSet:
    _needs_path("imagenette", arg)
    return imagenette(arg)


@register_image_source("folder")
def _folder(arg: str) -> ImageSet:
    _needs_path("folder", arg)
    return image_folder(arg)


@register_image_source("imagefolder")
def _imagefolder(arg: str) -> ImageSet:
    """``imagefolder:PATH``: class-name sub-folders (torchvision's ImageFolder layout), labelled by them."""
    _needs_path("imagefolder", arg)
    return class_folder(arg)


def _shapes(arg: str, *, spurious: bool) -> ImageSet:
    split, _, n = arg.partition(":")
    return shapes_images(split or "test", int(n or 16), spurious=spurious)


@register_image_source("shapes")
def _shapes_clean(arg: str) -> ImageSet:
    return _shapes(arg, spurious=False)


@register_image_source("shapes-spurious")
def _shapes_spurious(arg: str) -> ImageSet:
    return _shapes(arg, spurious=True)


def image_set_from_spec(spec: str) -> ImageSet:
    """The image set a spec names.

    ``shapes`` is the zoo's generated set (with object masks; default split
    ``test``, 16 images, class-balanced); ``shapes-spurious`` its
    spurious-cue variant.
    """
    kind, _, arg = spec.partition(":")
    if kind not in IMAGE_SOURCES:
        raise ValueError(
            f"unknown image set {spec!r}; use one of {', '.join(IMAGE_SOURCES.names())} "
            "(imagenette:PATH, folder:PATH, shapes[:SPLIT[:N]])"
        )
    try:
        return IMAGE_SOURCES.get(kind)(arg)
    except ValueError as exc:
        raise ValueError(f"bad image set {spec!r}: {exc}") from exc


def run_image_sets(
    spec: str, *, max_images: int | None = None, zoo_images: int = 8, datasets: str | None = None
) -> dict[str, ImageSet]:
    """The image sets of a run, by label space: the spec's set, and the zoo's ``shapes`` test images
    (``zoo_images`` of them, with object masks, written under ``datasets``) when the spec is not shapes.

    What ``pytest suites/`` and ``python -m harness run`` both show their models, so both compute the
    same store keys.
    """

    main = image_set_from_spec(spec).head(max_images)
    space = main.records[0].label_space if main.records else "imagenet"
    images = {space: main}
    if space != LABEL_SPACE and zoo_images > 0:
        images[LABEL_SPACE] = shapes_images("test", zoo_images, root=datasets).head(max_images)
    for bound, factory in LABEL_SPACE_SETS.items():
        images.setdefault(bound, factory().head(max_images))
    return images
