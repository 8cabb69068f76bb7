"""Turn any target layer's activation into a ``[B, C, h, w]`` grid, from the config."""

from __future__ import annotations

import math

import torch

from ..models.config import ModelCfg


def to_grid(act: torch.Tensor, cfg: ModelCfg) -> torch.Tensor:
    """``nchw`` passes through; ``nhwc`` (Swin stages) is permuted; token
    sequences ``[B, N, C]`` lose their ``num_prefix_tokens`` (CLS,
    distillation) and are reshaped to the patch grid."""
    if act.ndim == 4:
        return act.permute(0, 3, 1, 2) if cfg.layout == "nhwc" else act
    if act.ndim == 3:
        tokens = act[:, cfg.num_prefix_tokens :, :]
        n = tokens.shape[1]
        h, w = cfg.grid_size if cfg.grid_size and cfg.grid_size[0] * cfg.grid_size[1] == n else (0, 0)
        if h == 0:
            side = math.isqrt(n)
            if side * side != n:
                raise ValueError(
                    f"{cfg.name}: {n} tokens after dropping {cfg.num_prefix_tokens} prefix "
                    "token(s) do not form a square grid; set grid_size in the model config"
                )
            h = w = side
        return tokens.reshape(act.shape[0], h, w, -1).permute(0, 3, 1, 2)
    raise ValueError(f"{cfg.name}: cannot turn a {act.ndim}-D activation {tuple(act.shape)} into a grid")
