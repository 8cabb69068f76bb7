"""Grad-CAM native resolution at 25/50/75/100 % depth, against the model config.

The expected grid is ``ceil(input_size / stride)`` from
:attr:`~harness.models.ModelCfg.strides`; 7x7 at the last layer for most
study models at 224 px, 14x14 where a model keeps a 16-pixel token grid.
Structure does not depend on weights, so this check runs on declared-random
weights for models whose real weights are not available.
"""

from __future__ import annotations

import torch

from ..explainers import create_explainer
from ..models import DEPTHS
from .basic import CheckFailure


def check_resolution(model, x: torch.Tensor) -> dict[int, tuple[int, int]]:
    """Measured native map per depth; fails naming the first mismatch."""
    __tracebackhide__ = True

    with torch.no_grad():
        target = model(x).argmax(1)
    measured: dict[int, tuple[int, int]] = {}
    for depth in DEPTHS:
        exp = create_explainer("gradcam", depth=depth)(model, x, target)
        measured[depth] = (int(exp.native_resolution[0]), int(exp.native_resolution[1]))
        want = model.cfg.native_grid(depth)
        if measured[depth] != want:
            raise CheckFailure(
                f"resolution: Grad-CAM at {depth}% depth ({model.cfg.target_layer(depth)}) is "
                f"{measured[depth]}, the config expects {want} (tolerance: exact) [gradcam on {model.label}]"
            )
    check_shallower_is_larger(measured, hierarchical=not model.cfg.patch_size, case=f"gradcam on {model.label}")
    return measured


def check_shallower_is_larger(measured: dict[int, tuple[int, int]], *, hierarchical: bool, case: str) -> None:
    """The grid never shrinks towards the input; a hierarchical model's 25 % grid beats its 100 % grid.

    Uniform-patch transformers keep one token grid at every depth, so for them only "never shrinks" holds.
    """
    __tracebackhide__ = True
    depths = sorted(measured)
    for shallow, deep in zip(depths, depths[1:]):
        if measured[shallow][0] < measured[deep][0] or measured[shallow][1] < measured[deep][1]:
            raise CheckFailure(
                f"resolution: {shallow}% depth grid {measured[shallow]} is smaller than "
                f"{deep}% depth {measured[deep]} (shallower must be at least as large) [{case}]"
            )
    if hierarchical and not measured[depths[0]][0] > measured[depths[-1]][0]:
        raise CheckFailure(
            f"resolution: {depths[0]}% depth grid {measured[depths[0]]} is not larger than "
            f"{depths[-1]}% {measured[depths[-1]]} in a hierarchical model [{case}]"
        )
