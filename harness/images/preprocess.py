"""Per-model preprocessing, driven only by the model's config."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..models.config import ModelCfg

_RESAMPLE = {"bicubic": 3, "bilinear": 2, "nearest": 0}  # PIL.Image.Resampling values


def resize_crop(pixels: np.ndarray, cfg: ModelCfg) -> np.ndarray:
    """Resize the short side to ``input_size / crop_pct`` and centre-crop, as timm's eval transform."""

    size = cfg.input_size
    scale = round(size / cfg.crop_pct)
    im = Image.fromarray(pixels)
    w, h = im.size
    if w <= h:
        nw, nh = scale, max(scale, round(h * scale / w))
    else:
        nw, nh = max(scale, round(w * scale / h)), scale
    im = im.resize((nw, nh), _RESAMPLE[cfg.interpolation])
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(im.crop((left, top, left + size, top + size)), dtype=np.uint8)


def to_unit(pixels: list[np.ndarray] | np.ndarray) -> torch.Tensor:
    """``uint8 [B,H,W,3]`` (or a list of them) to ``float [B,3,H,W]`` in 0..1."""
    arr = np.stack(list(pixels)) if isinstance(pixels, list) else pixels
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div_(255.0)


def normalize(unit: torch.Tensor, cfg: ModelCfg) -> torch.Tensor:
    mean = torch.tensor(cfg.mean, dtype=unit.dtype, device=unit.device).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std, dtype=unit.dtype, device=unit.device).view(1, 3, 1, 1)
    return (unit - mean) / std


def denormalize(x: torch.Tensor, cfg: ModelCfg) -> torch.Tensor:
    mean = torch.tensor(cfg.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return x * std + mean


def preprocess(images: list[np.ndarray], cfg: ModelCfg) -> torch.Tensor:
    """Decoded RGB images to the model's normalised input batch ``[B,3,S,S]``."""
    return normalize(to_unit([resize_crop(p, cfg) for p in images]), cfg)
