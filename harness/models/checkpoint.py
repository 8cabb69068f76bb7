"""A user's own model: an architecture, a checkpoint file, ``num_classes`` and class names.

>>> cfg = checkpoint_model("shapes_resnet", arch="resnet18", checkpoint="model.safetensors",
...                        class_names=("circle", "square", "triangle"))   # doctest: +SKIP

The architecture is a timm name (configured by
:func:`~harness.models.from_timm.from_timm`), or an adapter's
``torchvision:NAME`` / ``transformers:PATH`` (see :mod:`harness.models.adapters`).
The checkpoint is a ``.safetensors`` file or a ``.pth``/``.pt`` state dict,
read with ``torch.load(weights_only=True)``: a pickle holding anything but
tensors is refused with the one-line message of :mod:`harness.models.loading`.
Its label space is the model's own name unless given; an ``ImageFolder``
image set of the same class names is checked against it
(:func:`harness.images.folders.class_folder`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .adapters import adapter_cfg
from .config import ModelCfg
from .from_timm import from_timm
from .registry import add_model

CHECKPOINT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")


def checkpoint_model(
    name: str,
    *,
    arch: str,
    checkpoint: str | Path,
    num_classes: int | None = None,
    class_names: Sequence[str] = (),
    register: bool = True,
    **overrides: Any,
) -> ModelCfg:
    """Declare (and by default register) a model built by ``arch`` with the weights in ``checkpoint``.

    ``num_classes`` defaults to ``len(class_names)``; ``overrides`` are any
    other :class:`ModelCfg` fields (``target_layers=``, ``input_size=``...).
    """
    path = Path(checkpoint).expanduser()
    if path.suffix not in CHECKPOINT_SUFFIXES:
        raise ValueError(f"{name}: checkpoint {path} is not one of {', '.join(CHECKPOINT_SUFFIXES)}")
    names = tuple(str(c) for c in class_names)
    n = int(num_classes if num_classes is not None else len(names))
    if n <= 0:
        raise ValueError(f"{name}: give num_classes or class_names for checkpoint {path}")
    if names and len(names) != n:
        raise ValueError(f"{name}: {len(names)} class names {list(names)} for num_classes={n}")
    fields: dict[str, Any] = dict(
        name=name,
        source="checkpoint",
        checkpoint=str(path.resolve()),
        num_classes=n,
        class_names=names,
        label_space=overrides.pop("label_space", name),
        hf_hub_id="",
        **overrides,
    )
    if ":" in arch:
        cfg = adapter_cfg(arch, **fields)
    else:
        cfg = from_timm(arch, **fields)
    return add_model(cfg) if register else cfg
