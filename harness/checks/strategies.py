"""Hypothesis strategies for the property checks.

One module for every strategy the property suites and unit tests draw
from: finite floats only, and size caps everywhere, so a shrunk example is
small and a failing one reproduces from its seed.

* :func:`smooth_inputs`: a coarse grid of finite floats (at most
  ``MAX_COARSE`` x ``MAX_COARSE`` per channel) upsampled bilinearly to the
  model's input side, so Hypothesis draws a few dozen numbers, not 150 000.
* :func:`shapes_inputs`: a fresh ``shapes`` sample (the zoo's procedural
  dataset, an infinite supply of in-distribution images) plus bounded pixel
  noise, preprocessed for the model.
* :data:`baselines`, :func:`targets`.
* :data:`weight_seeds` (random weights of the bias-free ReLU oracle) and :func:`patch_sets`
  (the patches an oracle ViT is wired to attend to).

Seeds come from the test id (:func:`harness.core.seeds.seed_for`), so ``@seed`` reproduces
a run on any machine; profiles ``dev`` and ``ci`` live in ``conftest.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from ..images import normalize, resize_crop, to_unit
from ..zoo.shapes import make_sample

MAX_COARSE = 6  # coarse grid side for smooth inputs (per channel)
MAX_NOISE = 0.1  # bound on added pixel noise, in 0..1 pixel units
MAX_SHAPES_INDEX = 10_000  # shapes samples drawn from this many per split

baselines = st.sampled_from(("black", "blur", "noise"))
_finite = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False, width=32)


weight_seeds = st.integers(min_value=0, max_value=2**31 - 1)


def patch_sets(n_patches: int, *, max_size: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Sorted, non-empty tuples of distinct token indices below ``n_patches`` (at most ``max_size``)."""
    return st.lists(st.integers(min_value=0, max_value=n_patches - 1), min_size=1, max_size=max_size, unique=True).map(
        lambda xs: tuple(sorted(xs))
    )


def targets(num_classes: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=num_classes - 1)


@st.composite
def smooth_inputs(draw, side: int, *, channels: int = 3) -> torch.Tensor:
    """``[1, C, side, side]`` input in the normalised space: a smooth field of finite floats."""
    k = draw(st.integers(min_value=2, max_value=MAX_COARSE))
    vals = draw(st.lists(_finite, min_size=channels * k * k, max_size=channels * k * k))
    coarse = torch.tensor(vals, dtype=torch.float32).reshape(1, channels, k, k)
    return F.interpolate(coarse, size=(side, side), mode="bilinear", align_corners=False)


@st.composite
def shapes_inputs(draw, cfg, *, split: str = "test") -> tuple[torch.Tensor, int]:
    """``(x [1, 3, S, S], label)``: a procedural ``shapes`` image plus bounded noise, preprocessed for ``cfg``."""

    index = draw(st.integers(min_value=0, max_value=MAX_SHAPES_INDEX))
    amp = draw(st.floats(min_value=0.0, max_value=MAX_NOISE, allow_nan=False))
    noise_seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    sample = make_sample(0, split, index)
    unit = to_unit([resize_crop(sample.image, cfg)])
    if amp > 0:
        gen = torch.Generator().manual_seed(noise_seed)
        unit = (unit + amp * (2 * torch.rand(unit.shape, generator=gen) - 1)).clamp(0, 1)
    return normalize(unit, cfg), sample.label
