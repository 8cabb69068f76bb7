"""What a metric sees: the model, the inputs, the targets, and Quantus's attribution preprocessing.

:func:`quantus_prepare` repeats Quantus 0.6.0's ``general_preprocess`` on
one attribution set: add the channel axis, divide by the largest absolute
value over the whole set (``normalise_by_max`` with no axes; all-zero sets
stay zero), then take the absolute value when ``abs`` is set.  Scores equal
Quantus's only when the set passed here is the set Quantus would get in one
call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .forward import default_batch, inference_module, target_logits

QUANTUS_BATCH = 64  # Quantus's default ``batch_size``: its RNG streams run per chunk of this many samples


@dataclass
class MetricInputs:
    """One model's inputs for the metrics.

    ``x`` is the normalised input batch ``[N, C, H, W]`` (float32, numpy),
    ``y`` the explained classes, ``masks`` optional boolean ``[N, H, W]``
    object masks; ``explain(targets)`` returns ``[N, H, W]`` maps of other
    targets for metrics that re-explain (RandomLogit), keyed by set name;
    ``explain_model(module)`` returns ``[N, H, W]`` maps of the same images
    and targets on another module (MPRT's randomised copy), keyed likewise.
    ``batch_size`` is the forward chunk; ``0`` picks it from the module's
    device (:func:`~harness.metrics.forward.default_batch`).  ``freeze``
    (``None``: the ``XAI_HARNESS_FREEZE`` setting, on by default) runs the
    metrics' forward passes through a checked, frozen TorchScript copy on
    the CPU (:func:`~harness.metrics.forward.inference_module`);
    :meth:`forward_module` gives the module to call and ``forward_how`` says
    which one it is.
    """

    module: torch.nn.Module
    x: np.ndarray
    y: np.ndarray
    num_classes: int
    masks: np.ndarray | None = None
    explain: dict[str, Callable[[np.ndarray], np.ndarray]] | None = None
    explain_model: dict[str, Callable[[torch.nn.Module], np.ndarray]] | None = None
    batch_size: int = 0
    freeze: bool | None = None
    forward_how: str = field(default="", init=False)  # set by forward_module()

    def __post_init__(self) -> None:
        self.x = np.ascontiguousarray(self.x, dtype=np.float32)
        self.y = np.asarray(self.y, dtype=np.int64)
        if not self.batch_size:
            self.batch_size = default_batch(self.module)

    def forward_module(self) -> torch.nn.Module:
        """The module the metrics' forward passes call (see the class docstring)."""

        module, self.forward_how = inference_module(self.module, self.x, batch_size=self.batch_size, freeze=self.freeze)
        return module


def quantus_prepare(a: np.ndarray, *, normalise: bool, abs: bool) -> np.ndarray:
    """``[N, H, W]`` -> ``[N, 1, H, W]`` as Quantus preprocesses attributions."""
    a = np.asarray(a)[:, None]
    if normalise and not np.all(a == 0.0):
        a = np.divide(a, np.max(np.abs(a)))
    if abs:
        a = np.abs(a)
    return a


def flat_features(a: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast ``[N, 1, H, W]`` to the input's channels and flatten, as Quantus's evaluate_batch does."""
    return np.broadcast_to(a, x_shape).reshape(x_shape[0], -1)


class Batcher:
    """Collects perturbed inputs and runs them through the model ``batch_size`` at a time.

    ``add`` takes ``[k, C, H, W]`` inputs and their targets; ``result()``
    returns the target logits of everything added, in order.
    """

    def __init__(self, module: torch.nn.Module, batch_size: int, *, softmax: bool = False) -> None:
        self._fwd = lambda x, y: target_logits(module, x, y, batch_size=batch_size, softmax=softmax)
        self.batch_size = batch_size
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []
        self._pending = 0
        self._out: list[np.ndarray] = []

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        self._x.append(x)
        self._y.append(np.asarray(y))
        self._pending += len(x)
        if self._pending >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._out.append(self._fwd(np.concatenate(self._x), np.concatenate(self._y)))
            self._x, self._y, self._pending = [], [], 0

    def result(self) -> np.ndarray:
        self._flush()
        return np.concatenate(self._out) if self._out else np.zeros(0, np.float32)
