"""Explain one chunk of images on the model's device: batch size, out-of-memory retries, peak memory.

:func:`explain_chunk` is what every engine calls (the runner in process,
the grid's local and Ray engines): it splits the chunk into batches of the
explainer's batch size for the device (``ExplainerCfg.batch_size``), halves
the batch and retries when a batch runs out of memory, and records, for the
chunk, the batch it ended with, how many halvings it took, the seconds and
the peak memory (``torch.cuda.max_memory_allocated`` on a GPU, the
highest resident set sampled during the chunk on the CPU; the process's own
high-water mark is never reset, so ``/usr/bin/time -v`` reports the run's peak).
On a GPU the explainer's step batch (IG's ``internal_batch_size``) is chosen
from free memory.

The store key keeps the requested parameters; what ran is in the meta
(``batch``, ``oom_retries``, ``step_batch``, ``peak_memory_bytes``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..core.memory import PeakSampler

MEMORY_HEADROOM = 0.6  # share of free GPU memory a step batch may plan to use


class ChunkOOM(RuntimeError):
    """A batch of one image still ran out of memory."""


@dataclass
class ChunkResult:
    """Explanations of one chunk of images, with how they were computed."""

    attributions: np.ndarray  # [B, H, W] float32
    native: np.ndarray | None  # [B, h, w] or None
    native_resolution: tuple[int, int]
    extras: list[dict[str, Any]]  # per image
    seconds: float
    device: str
    batch: int
    oom_retries: int
    peak_memory_bytes: int
    memory_kind: str
    step_batch: int | None = None

    def image_meta(self, j: int) -> dict[str, Any]:
        """Meta of the chunk's ``j``-th image (what the runner stores beside the map)."""
        n = len(self.attributions)
        return {
            "native_resolution": list(self.native_resolution),
            "seconds": self.seconds / max(n, 1),
            "extras": self.extras[j],
            "device": self.device,
            "batch": self.batch,
            "oom_retries": self.oom_retries,
            "step_batch": self.step_batch,
            "peak_memory_bytes": self.peak_memory_bytes,
            "memory_kind": self.memory_kind,
        }


def is_oom(exc: BaseException) -> bool:
    """An out-of-memory error of torch (CUDA, MPS or the CPU allocator)."""
    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, oom) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


# -- peak memory -----------------------------------------------------------
@dataclass
class PeakReading:
    """What :func:`peak_window` measured: bytes, and how (``memory_kind`` in the chunk's meta)."""

    bytes: int = 0
    kind: str = ""


@contextmanager
def peak_window(device: torch.device) -> Iterator[PeakReading]:
    """Measure the peak memory of the block on ``device`` into the yielded reading.

    On a GPU ``torch.cuda.max_memory_allocated`` after a reset of its peak; on the CPU the
    highest resident set sampled during the block (:class:`harness.core.memory.PeakSampler`),
    which leaves the process's own high-water mark alone.
    """
    reading = PeakReading()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        reading.kind = "cuda_max_memory_allocated"
        yield reading
        reading.bytes = int(torch.cuda.max_memory_allocated(device))
        return
    with PeakSampler() as sampler:
        yield reading
    reading.kind, reading.bytes = sampler.kind, sampler.peak


# -- step batch --------------------------------------------------------------
def step_batch_for(free_bytes: int, per_row_bytes: int, *, rows: int, headroom: float = MEMORY_HEADROOM) -> int:
    """Rows per internal pass that fit ``headroom`` of ``free_bytes`` at ``per_row_bytes`` each (1..rows)."""
    if per_row_bytes <= 0:
        return rows
    return int(max(1, min(rows, (free_bytes * headroom) // per_row_bytes)))


def _per_row_bytes(loaded, x: torch.Tensor) -> int:
    """Peak GPU bytes of one forward + backward per input row, measured on two rows."""
    dev = x.device
    probe = x[:1].expand(2, *x.shape[1:]).clone().requires_grad_(True)
    torch.cuda.synchronize(dev)
    before = torch.cuda.memory_allocated(dev)
    torch.cuda.reset_peak_memory_stats(dev)
    with torch.enable_grad():
        loaded.module(probe).sum().backward()
    torch.cuda.synchronize(dev)
    return max(1, (torch.cuda.max_memory_allocated(dev) - before) // 2)


def choose_step_batch(loaded, explainer, x: torch.Tensor) -> int | None:
    """On a GPU, the step batch that fits free memory; None elsewhere (the requested value runs)."""
    name = explainer.cfg.step_batch_param
    if not name or x.device.type != "cuda":
        return None
    steps = int(explainer.param_dict.get("n_steps", 1))
    free, _total = torch.cuda.mem_get_info(x.device)
    return step_batch_for(free, _per_row_bytes(loaded, x), rows=steps * x.shape[0])


# -- the chunk ---------------------------------------------------------------
def explain_chunk(
    loaded, explainer, x: torch.Tensor, targets: torch.Tensor, *, batch: int | None = None
) -> ChunkResult:
    """Explain ``x`` (``[N, C, H, W]`` on the model's device) for ``targets`` in batches.

    ``batch`` defaults to the explainer's batch size for the device.  A batch
    that runs out of memory is halved and retried (down to one image, then
    :class:`ChunkOOM`); later batches keep the halved size.
    """
    dev = x.device
    batch = max(1, batch or explainer.cfg.batch_size(dev.type))
    step = choose_step_batch(loaded, explainer, x)
    run = explainer
    if step is not None:
        run = dataclasses.replace(
            explainer,
            params=tuple(sorted({**explainer.param_dict, explainer.cfg.step_batch_param: step}.items())),
        )
    with peak_window(dev) as peak:
        start = time.perf_counter()
        parts, batch, retries = _explain_batches(loaded, run, x, targets, batch)
        seconds = time.perf_counter() - start
    natives = [p.native for p in parts]
    return ChunkResult(
        attributions=np.concatenate([p.attributions for p in parts]),
        native=np.concatenate(natives) if all(n is not None for n in natives) else None,
        native_resolution=parts[0].native_resolution,
        extras=_per_image_extras(parts),
        seconds=seconds,
        device=str(dev),
        batch=batch,
        oom_retries=retries,
        peak_memory_bytes=peak.bytes,
        memory_kind=peak.kind,
        step_batch=step,
    )


def _explain_batches(loaded, run, x: torch.Tensor, targets: torch.Tensor, batch: int) -> tuple[list, int, int]:
    """``run`` over ``x`` in batches, halving the batch on out-of-memory; (parts, final batch, halvings)."""
    retries = 0
    parts = []
    i = 0
    while i < len(x):
        xb, tb = x[i : i + batch], targets[i : i + batch]
        try:
            parts.append(run(loaded, xb, tb))
        except Exception as exc:
            if not is_oom(exc):
                raise
            if x.device.type == "cuda":
                torch.cuda.empty_cache()
            if batch == 1:
                raise ChunkOOM(
                    f"{run.name} on {loaded.label}: out of memory on a single image after {retries} halving(s) ({exc})"
                ) from exc
            batch, retries = max(1, batch // 2), retries + 1
            continue
        i += len(xb)
    return parts, batch, retries


def _per_image_extras(parts: list) -> list[dict[str, Any]]:
    """Each batch's extras split per image (a list as long as the batch is per image; anything else is shared)."""
    extras: list[dict[str, Any]] = []
    for p in parts:
        b = len(p.attributions)
        extras += [
            {k: (v[j] if isinstance(v, list) and len(v) == b else v) for k, v in p.extras.items()} for j in range(b)
        ]
    return extras
