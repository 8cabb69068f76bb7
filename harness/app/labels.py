"""Class names for a model's outputs: its declared names, the zoo's shapes, ImageNet's, else ``class N``."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from ..models import ModelCfg
from ..zoo.shapes import CLASS_NAMES, LABEL_SPACE


@lru_cache(maxsize=1)
def _imagenet_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names (first synonym), from timm's bundled ImageNet info (offline)."""
    from timm.data import ImageNetInfo  # lazy: timm takes ~3 s to import

    info = ImageNetInfo()
    return tuple(info.index_to_description(i).split(",")[0] for i in range(1000))


def class_namer(cfg: ModelCfg) -> Callable[[int], str]:
    """``index -> name`` for ``cfg``'s outputs."""

    if cfg.class_names:
        names: tuple[str, ...] = cfg.class_names
    elif cfg.label_space == LABEL_SPACE:
        names = CLASS_NAMES
    elif cfg.label_space == "imagenet" and cfg.num_classes == 1000:
        names = _imagenet_names()
    else:
        names = ()
    return lambda i: names[i] if 0 <= i < len(names) else f"class {i}"
