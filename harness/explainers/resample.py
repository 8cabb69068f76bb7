"""Resample a 2-D attribution map to a square grid (for comparison and baselines)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def resample_map(attr: np.ndarray, side: int) -> np.ndarray:
    """``[H, W]`` map to ``[side, side]`` float32: area average when shrinking,
    bilinear when growing."""
    t = torch.from_numpy(np.ascontiguousarray(attr, dtype=np.float32))[None, None]
    if t.shape[-1] >= side:
        return F.adaptive_avg_pool2d(t, side)[0, 0].numpy()
    return F.interpolate(t, size=(side, side), mode="bilinear", align_corners=False)[0, 0].numpy()
