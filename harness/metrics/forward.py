"""Batched model calls for the metrics: many perturbed inputs, few forward passes.

Quantus 0.6.0 calls the model once per perturbation step on the batch of
samples; here every step of every sample (and of every attribution set)
goes through :func:`target_logits` in chunks of ``batch_size``, under
``torch.inference_mode``.

Chunk size: on the CPU a forward pass costs the same per image at any
batch size, or more at large ones (measured, 1 thread, 224 px, ms/image at
batch 1/2/4/8/16/32: zoo_resnet 26/26/29/24/30/32, efficientnet_lite0
37/30/44/55/62/89, zoo_swin 12/11/13/11/8/13), so the CPU default is
:data:`CPU_BATCH`; on a GPU large chunks are what make batching pay
(:data:`GPU_BATCH`).  Outputs are logits, or softmax probabilities where the
Quantus metric defaults to ``softmax=True`` (PixelFlipping,
MonotonicityCorrelation, ROAD), as float32, like Quantus's ``torch.Tensor(x)``.
"""

from __future__ import annotations

import numpy as np
import torch

CPU_BATCH = 4
GPU_BATCH = 64
DEFAULT_BATCH = CPU_BATCH  # kept for callers that pass it explicitly


def _device(module: torch.nn.Module) -> torch.device:
    try:
        return next(module.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def default_batch(module: torch.nn.Module) -> int:
    """:data:`GPU_BATCH` when the module lives on a GPU, else :data:`CPU_BATCH`."""
    return CPU_BATCH if _device(module).type == "cpu" else GPU_BATCH


def logits(module: torch.nn.Module, x: np.ndarray, *, batch_size: int = DEFAULT_BATCH,
           softmax: bool = False) -> np.ndarray:
    """``[N, classes]`` logits (or probabilities) of ``x`` (``[N, C, H, W]`` float32) in chunks."""
    dev = _device(module)
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            chunk = torch.from_numpy(np.ascontiguousarray(x[i: i + batch_size], dtype=np.float32)).to(dev)
            pred = module(chunk)
            out.append((torch.softmax(pred, dim=-1) if softmax else pred).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def target_logits(module: torch.nn.Module, x: np.ndarray, y: np.ndarray, *,
                  batch_size: int = DEFAULT_BATCH, softmax: bool = False) -> np.ndarray:
    """Logit (or probability) of class ``y[i]`` for each ``x[i]``."""
    return logits(module, x, batch_size=batch_size, softmax=softmax)[np.arange(len(x)), np.asarray(y)]


def predicted(module: torch.nn.Module, x: np.ndarray, *, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    return logits(module, x, batch_size=batch_size).argmax(axis=-1)
