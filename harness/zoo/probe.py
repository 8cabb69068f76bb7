"""The ``shapes`` concept probe split: concepts drawn independently of the classes, with a mask per concept.

In the train/val/test splits shape, colour and texture always come together
(a red disk, a checkered white diamond).  In the probe split each is drawn
on its own, uniformly: any of the 8 shapes, in any of the 8 colours, with
any of the 3 textures, on either background kind, with 0-3 distractors.
So a red square and a checkered star are both common, and a unit that
answers to *red* can be told from one that answers to *disk*.

Every sample lists its concepts (``shape:disk``, ``colour:red``,
``texture:stripes``, ``background:photo``, ``distractor``) and carries one
exact pixel mask per concept:

* ``shape:*`` and ``texture:*``: the object's pixels;
* ``colour:*``: the object's pixels painted in its main colour (all of a
  solid object; the light stripes or squares of a striped or checkered one);
* ``background:*``: every pixel that is neither object nor distractor;
* ``distractor``: the distractors' visible pixels.

Sample ``i`` is drawn from ``numpy.random.default_rng([seed, PROBE_SPLIT_ID, i, 0])``;
:data:`PROBE_SPLIT_ID` is none of :data:`~harness.zoo.shapes.SPLIT_IDS`, so
the probe never shares a stream with train, val or test, and adding it left
their images unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .shapes import (
    CLASSES,
    SIZE,
    SPLIT_IDS,
    _distractor,
    _hsv,
    _outline,
    _photo_background,
    _place,
    _polygon_mask,
    _texture_background,
)

PROBE_SPLIT_ID = 3
assert PROBE_SPLIT_ID not in SPLIT_IDS.values()

SHAPES = ("disk", "square", "triangle", "star", "cross", "ring", "hexagon", "diamond")
# The class hues by name; white (-1) is the checker diamond's light colour.
COLOURS: dict[str, float] = {
    "red": 0.0,
    "orange": 0.07,
    "yellow": 0.15,
    "green": 0.33,
    "cyan": 0.5,
    "blue": 0.62,
    "magenta": 0.85,
    "white": -1.0,
}
TEXTURES = ("solid", "stripes", "checker")
BACKGROUNDS = ("photo", "texture")
CONCEPTS: tuple[str, ...] = (
    *(f"shape:{s}" for s in SHAPES),
    *(f"colour:{c}" for c in COLOURS),
    *(f"texture:{t}" for t in TEXTURES),
    *(f"background:{b}" for b in BACKGROUNDS),
    "distractor",
)


def colour_name(hue: float) -> str:
    return next(name for name, h in COLOURS.items() if abs(h - hue) < 1e-6)


def class_concepts(label: int) -> tuple[str, str, str]:
    """Class ``label``'s own concepts: its shape, colour and texture."""
    c = CLASSES[label]
    return (f"shape:{c.shape}", f"colour:{colour_name(c.hue)}", f"texture:{c.texture}")


@dataclass(frozen=True)
class ProbeSample:
    image: np.ndarray  # [224, 224, 3] uint8
    masks: dict[str, np.ndarray]  # concept -> [224, 224] bool, for the concepts present
    concepts: tuple[str, ...]
    meta: dict


def _probe_fill(
    hue: float, texture: str, rng: np.random.Generator, angle: float, cx: float, cy: float
) -> tuple[np.ndarray, np.ndarray]:
    """The object's fill (as :func:`harness.zoo.shapes._fill`) and where its main colour lies."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    u = np.cos(angle) * (xx - cx) + np.sin(angle) * (yy - cy)
    v = -np.sin(angle) * (xx - cx) + np.cos(angle) * (yy - cy)
    value = rng.uniform(0.75, 1.0)
    if hue < 0:
        main = np.array([value] * 3, np.float32)
    else:
        main = _hsv(hue + rng.uniform(-0.02, 0.02), rng.uniform(0.8, 1.0), value)
    second = np.array([0.05] * 3, np.float32)
    if texture == "solid":
        return np.broadcast_to(main, (SIZE, SIZE, 3)), np.ones((SIZE, SIZE), bool)
    period = rng.uniform(9, 14)
    if texture == "stripes":
        on = (np.floor(u / period) % 2) == 0
    else:
        on = ((np.floor(u / period) + np.floor(v / period)) % 2) == 0
    return np.where(on[..., None], main, second), on


def make_probe_sample(seed: int, index: int) -> ProbeSample:
    """Probe sample ``index``: shape, colour, texture and background drawn independently."""
    rng = np.random.default_rng([seed, PROBE_SPLIT_ID, index, 0])
    shape = SHAPES[rng.integers(len(SHAPES))]
    colour = list(COLOURS)[rng.integers(len(COLOURS))]
    texture = TEXTURES[rng.integers(len(TEXTURES))]
    bg_kind = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    img = _photo_background(rng) if bg_kind == "photo" else _texture_background(rng)
    distractors = np.zeros((SIZE, SIZE), bool)
    for _ in range(rng.integers(0, 4)):
        m, c = _distractor(rng)
        img[m] = c
        distractors |= m
    r = rng.uniform(26, 56)
    angle = rng.uniform(0, 2 * np.pi)
    cx, cy = rng.uniform(r + 2, SIZE - r - 2, 2)
    obj = _polygon_mask(_place(_outline(shape, r), angle, cx, cy))
    fill, on = _probe_fill(COLOURS[colour], texture, rng, angle, cx, cy)
    img = np.where(obj[..., None], fill, img)
    img = img + rng.normal(0, 0.02, img.shape)
    image = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    distractors &= ~obj
    masks = {
        f"shape:{shape}": obj,
        f"colour:{colour}": obj & on,
        f"texture:{texture}": obj,
        f"background:{bg_kind}": ~obj & ~distractors,
    }
    if distractors.any():
        masks["distractor"] = distractors
    meta = dict(
        split="probe",
        index=index,
        seed=seed,
        shape=shape,
        colour=colour,
        texture=texture,
        background=bg_kind,
        radius=round(float(r), 2),
        centre=[round(float(cx), 2), round(float(cy), 2)],
    )
    return ProbeSample(image, masks, tuple(masks), meta)


@dataclass(frozen=True)
class ProbeSet:
    """``n`` probe samples as arrays; ``presence[i, c]`` is 1 when concept ``CONCEPTS[c]`` is in image ``i``."""

    seed: int
    images: np.ndarray  # [n, 224, 224, 3] uint8
    masks: np.ndarray  # [n, len(CONCEPTS), r, r] bool at resolution r
    presence: np.ndarray  # [n, len(CONCEPTS)] float32
    meta: tuple[dict, ...]

    def __len__(self) -> int:
        return len(self.images)


def _pool_mask(mask: np.ndarray, res: int) -> np.ndarray:
    """Downsample a bool mask by area (a pixel is in when more than half of its block is)."""
    k = SIZE // res
    return mask.reshape(res, k, res, k).mean(axis=(1, 3)) > 0.5


@lru_cache(maxsize=4)
def probe_set(seed: int = 0, n: int = 400, mask_res: int = 56) -> ProbeSet:
    """The first ``n`` probe samples; masks at ``mask_res`` (224 divided by an integer)."""
    if SIZE % mask_res:
        raise ValueError(f"mask_res {mask_res} must divide {SIZE}")
    images = np.empty((n, SIZE, SIZE, 3), np.uint8)
    masks = np.zeros((n, len(CONCEPTS), mask_res, mask_res), bool)
    presence = np.zeros((n, len(CONCEPTS)), np.float32)
    metas = []
    for i in range(n):
        s = make_probe_sample(seed, i)
        images[i] = s.image
        for name, m in s.masks.items():
            c = CONCEPTS.index(name)
            masks[i, c] = m if mask_res == SIZE else _pool_mask(m, mask_res)
            presence[i, c] = 1.0
        metas.append(s.meta)
    return ProbeSet(seed, images, masks, presence, tuple(metas))
