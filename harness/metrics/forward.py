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

Frozen graph on the CPU: :func:`inference_module` traces the model once
(cached per module until its weights change), freezes it and lets TorchScript fold BatchNorm into the
convolutions and run them through oneDNN (``torch.jit.optimize_for_inference``).
Same weights, same arithmetic up to float32 rounding; it is used only after
a check against the eager module (:data:`FREEZE_TOL`) at two batch sizes,
else the eager module runs and the reason is kept.  Measured, 1 thread,
224 px, ms/image at batch 4, eager -> frozen: zoo_resnet 15.0 -> 4.3,
efficientnet_lite0 21.5 -> 12.3, zoo_swin 7.9 -> 5.8, zoo_vit_p16 2.2 -> 2.1
(max logit difference 7e-6).  ``XAI_HARNESS_FREEZE=0`` switches it off.
"""

from __future__ import annotations

import os
import warnings
import weakref

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


FREEZE_ENV = "XAI_HARNESS_FREEZE"
FREEZE_TOL = 1e-4  # max |frozen - eager| over logits, relative to 1 + max |eager|
_FROZEN: weakref.WeakKeyDictionary[torch.nn.Module, tuple[tuple, torch.nn.Module | None, str]] = (
    weakref.WeakKeyDictionary()
)


class FrozenModule(torch.nn.Module):
    """A plain ``nn.Module`` around a frozen TorchScript graph, so callers that expect one (Quantus) take it."""

    def __init__(self, graph: torch.jit.ScriptModule) -> None:
        super().__init__()
        object.__setattr__(self, "graph", graph)  # not a submodule: ``eval()``/``train()`` must not reach it
        self.eval()

    graph: torch.jit.ScriptModule

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.graph(x)


def state_key(module: torch.nn.Module, shape: tuple[int, ...]) -> tuple:
    """Changes when a parameter or buffer is replaced or modified in place (``_version``)."""
    ts = list(module.parameters()) + list(module.buffers())
    return (shape, module.training, tuple((t.data_ptr(), t._version) for t in ts))


def freeze_enabled() -> bool:
    return os.environ.get(FREEZE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def inference_module(
    module: torch.nn.Module, example: np.ndarray, *, batch_size: int = DEFAULT_BATCH, freeze: bool | None = None
) -> tuple[torch.nn.Module, str]:
    """``(module to run, how)``: a frozen TorchScript copy of ``module`` on the CPU, else ``module``.

    ``example`` (``[k, C, H, W]``, the case's inputs) sets the traced shape
    and the check: the frozen copy must give the eager logits within
    :data:`FREEZE_TOL` on ``batch_size`` and on 1 input, or it is not used.
    Cached per module until its weights change.
    """
    freeze = freeze_enabled() if freeze is None else freeze
    if not freeze:
        return module, f"eager ({FREEZE_ENV}=0)"
    if _device(module).type != "cpu":
        return module, "eager (not on the CPU)"
    if module.training:
        return module, "eager (module in training mode)"
    key = state_key(module, tuple(example.shape[1:]))
    hit = _FROZEN.get(module)
    if hit is not None and hit[0] == key:
        return (hit[1] or module), hit[2]
    reps = -(-batch_size // len(example))
    probe = torch.from_numpy(np.ascontiguousarray(np.concatenate([example] * reps)[:batch_size], np.float32))
    frozen: torch.nn.Module | None = None
    how = ""
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, probe, check_trace=False)
            graph = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
        with torch.inference_mode():
            worst = 0.0
            for xb in (probe, probe[:1]):
                ref, got = module(xb).float(), graph(xb).float()
                if ref.shape != got.shape:
                    raise ValueError(f"output shape {tuple(got.shape)} != eager {tuple(ref.shape)}")
                worst = max(worst, float((got - ref).abs().max() / (1 + ref.abs().max())))
        if not worst <= FREEZE_TOL:
            how = f"eager (frozen copy differs by {worst:.2g} > {FREEZE_TOL:g})"
        else:
            how = f"frozen TorchScript (max relative logit difference {worst:.1g})"
            frozen = FrozenModule(graph)
    except Exception as exc:  # any tracing failure: run eager, keep why
        how, frozen = f"eager (tracing failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]})", None
    _FROZEN[module] = (key, frozen, how)
    return (frozen or module), how


def logits(
    module: torch.nn.Module, x: np.ndarray, *, batch_size: int = DEFAULT_BATCH, softmax: bool = False
) -> np.ndarray:
    """``[N, classes]`` logits (or probabilities) of ``x`` (``[N, C, H, W]`` float32) in chunks."""
    dev = _device(module)
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            chunk = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size], dtype=np.float32)).to(dev)
            pred = module(chunk)
            out.append((torch.softmax(pred, dim=-1) if softmax else pred).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def target_logits(
    module: torch.nn.Module, x: np.ndarray, y: np.ndarray, *, batch_size: int = DEFAULT_BATCH, softmax: bool = False
) -> np.ndarray:
    """Logit (or probability) of class ``y[i]`` for each ``x[i]``."""
    return logits(module, x, batch_size=batch_size, softmax=softmax)[np.arange(len(x)), np.asarray(y)]


def predicted(module: torch.nn.Module, x: np.ndarray, *, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    return logits(module, x, batch_size=batch_size).argmax(axis=-1)
