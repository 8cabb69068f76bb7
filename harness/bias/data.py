"""Images for the bias probe: clean ``shapes`` test samples with their backgrounds recoloured.

The spurious models (``ZooCfg.trained_on == "shapes-spurious"``) learnt on
backgrounds tinted with a class-specific hue (:data:`~harness.zoo.shapes.CUE_HUES`)
that agreed with the class 90 % of the time.  Here the same tint is laid
over the background (every pixel outside the object mask) of clean test
images, with the mixing weights of :func:`~harness.zoo.shapes.make_sample`:

* ``aligned``: the tint of the image's own class (the cue says the truth);
* ``free``: no tint at all (the clean image: no cue);
* ``conflicting``: the tint of another class, ``(label + 1 + j) % 8`` for the
  ``j``-th counterfactual (the cue lies).

Each model is explained on the images of the world it was trained in
(:func:`base_condition`: ``aligned`` for a spurious model, ``free`` for a
clean one), and the counterfactual recolours that image's background by
rotating its hue (:meth:`BiasSet.recoloured`) by ``j/8`` of a turn: on an
``aligned`` image that moves the tint onto another class's cue hue (the cue
hues are 1/8 of a turn apart), on a clean one it recolours the muted photo
or texture.  The object is untouched, so a model that looks only at the
object does not move.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from ..models.zoo import trained_on
from ..zoo.shapes import CUE_HUES, NUM_CLASSES, _hsv, balanced_indices, make_sample

CONDITIONS = ("aligned", "free", "conflicting")
BIAS_SEED, BIAS_SPLIT = 0, "test"


@dataclass(frozen=True)
class BiasSet:
    images: np.ndarray  # [n, 224, 224, 3] uint8, clean (cue-free)
    masks: np.ndarray  # [n, 224, 224] bool, the object
    labels: np.ndarray  # [n] int64

    def __len__(self) -> int:
        return len(self.labels)

    def tinted(self, cues: np.ndarray) -> np.ndarray:
        """The images with the background (outside the object) tinted with cue ``cues[i]``."""
        tints = np.stack([_hsv(CUE_HUES[int(c)], 0.6, 0.75) for c in cues])[:, None, None, :] * 255
        mixed = 0.55 * self.images.astype(np.float32) + 0.45 * tints
        out = np.where(self.masks[..., None], self.images.astype(np.float32), mixed)
        return (np.clip(out, 0, 255) + 0.5).astype(np.uint8)

    def condition(self, name: str, j: int = 0) -> np.ndarray:
        if name == "free":
            return self.images
        if name == "aligned":
            return self.tinted(self.labels)
        if name == "conflicting":
            return self.tinted((self.labels + 1 + j) % NUM_CLASSES)
        raise ValueError(f"unknown condition {name!r}; use one of {CONDITIONS}")

    def recoloured(self, name: str, j: int) -> np.ndarray:
        """Condition ``name`` with the background's hue rotated by ``j / 8`` of a turn (the counterfactual)."""
        return rotate_hue(self.condition(name), self.masks, j / NUM_CLASSES)


def base_condition(model_cfg) -> str:
    """The condition a model is explained on: the world it was trained in."""

    return "aligned" if trained_on(model_cfg) == "shapes-spurious" else "free"


def rotate_hue(images: np.ndarray, masks: np.ndarray, turn: float) -> np.ndarray:
    """``images`` with the hue of every pixel outside ``masks`` rotated by ``turn`` (0..1)."""

    out = images.copy()
    for i, (img, m) in enumerate(zip(images, masks)):
        hsv = np.asarray(Image.fromarray(img).convert("HSV")).copy()
        hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + round(turn * 256)) % 256).astype(np.uint8)
        rgb = np.asarray(Image.fromarray(hsv, mode="HSV").convert("RGB"))
        out[i] = np.where(m[..., None], img, rgb)
    return out


@lru_cache(maxsize=4)
def bias_set(n: int = 64, seed: int = BIAS_SEED, start: int = 0) -> BiasSet:
    """``n`` class-balanced clean test samples (the zoo's test split), from the ``start``-th on."""
    idx = balanced_indices(seed, BIAS_SPLIT, start + n)[start:]
    samples = [make_sample(seed, BIAS_SPLIT, i) for i in idx]
    return BiasSet(
        np.stack([s.image for s in samples]),
        np.stack([s.mask for s in samples]),
        np.array([s.label for s in samples], np.int64),
    )
