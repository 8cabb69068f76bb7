"""Interventions on the ``shapes`` world: the same sample re-rendered with exactly one element changed.

A sample's :class:`~harness.zoo.shapes.Scene` holds every random draw apart from composition, so
changing one layer and rendering again changes only that layer (and whatever it covered):

========================  =====================================================================
``object``                the class object removed: what lies under it (background, distractors)
``distractor_<k>``        the ``k``-th distractor removed (``k`` in drawing order)
``background``            the background photo or texture swapped for another of the same kind
``colour``                the object's hue turned by half a circle (the white checker turns blue)
``texture``               the object's texture switched: solid becomes checker, stripes or checker solid
``cue``                   (spurious scenes only) the background tint moved to another class's hue
========================  =====================================================================

Replacement content (the new background, the new fill) comes from the sample's own second random
stream ``[seed, split, index, spurious, ALT_STREAM]``, so every re-render is deterministic.
:func:`regions` gives the visible pixels of each element (``object``, ``distractor_<k>``,
``background``): the regions whose attribution mass is compared with their intervention's effect.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .shapes import (
    CLASSES,
    CUE_HUES,
    NUM_CLASSES,
    SPLIT_IDS,
    Scene,
    ShapeClass,
    _fill,
    _hsv,
    _photo_background,
    _texture_background,
    draw_scene,
    render,
)

ALT_STREAM = 1
# interventions that change the object's appearance in place (the others remove or replace a region,
# and their drop is that region's importance)
APPEARANCE_INTERVENTIONS = ("colour", "texture")
SWAPPED_TEXTURE = {"solid": "checker", "stripes": "solid", "checker": "solid"}
WHITE_TO_HUE = 0.62  # the white checker diamond has no hue to turn: it becomes blue


def _alt_rng(scene: Scene) -> np.random.Generator:
    return np.random.default_rng([scene.seed, SPLIT_IDS[scene.split], scene.index, int(scene.spurious), ALT_STREAM])


def interventions_for(scene: Scene) -> tuple[str, ...]:
    """Every intervention that applies to ``scene``, in a fixed order."""
    names = ["object", *(f"distractor_{k}" for k in range(len(scene.distractors))), "background"]
    names += list(APPEARANCE_INTERVENTIONS)
    if scene.tint is not None:
        names.append("cue")
    return tuple(names)


def _refill(scene: Scene, cls: ShapeClass) -> np.ndarray:
    cx, cy = scene.centre
    return _fill(cls, _alt_rng(scene), scene.angle, cx, cy)


def intervene(scene: Scene, name: str) -> Scene:
    """``scene`` with the one element ``name`` changed (see the module docstring); ``none`` returns it unchanged."""
    if name == "none":
        return scene
    if name not in interventions_for(scene):
        raise ValueError(
            f"shapes {scene.split}/{scene.index}: unknown intervention {name!r}; "
            f"this scene has {list(interventions_for(scene))}"
        )
    cls = CLASSES[scene.label]
    if name == "object":
        return dataclasses.replace(scene, mask=np.zeros_like(scene.mask))
    if name.startswith("distractor_"):
        k = int(name.removeprefix("distractor_"))
        return dataclasses.replace(scene, distractors=[d for i, d in enumerate(scene.distractors) if i != k])
    if name == "background":
        rng = _alt_rng(scene)
        swap = _photo_background(rng) if scene.bg_kind == "photo" else _texture_background(rng)
        return dataclasses.replace(scene, background=swap)
    if name == "colour":
        hue = WHITE_TO_HUE if cls.hue < 0 else (cls.hue + 0.5) % 1.0
        return dataclasses.replace(scene, fill=_refill(scene, dataclasses.replace(cls, hue=hue)))
    if name == "texture":
        return dataclasses.replace(
            scene, fill=_refill(scene, dataclasses.replace(cls, texture=SWAPPED_TEXTURE[cls.texture]))
        )
    # cue: the tint of the class half-way round the palette
    return dataclasses.replace(scene, tint=_hsv(CUE_HUES[(scene.cue + NUM_CLASSES // 2) % NUM_CLASSES], 0.6, 0.75))


def rerender(seed: int, split: str, index: int, name: str = "none", *, spurious: bool = False) -> np.ndarray:
    """Sample ``index`` of ``split`` rendered with intervention ``name`` (``none``: the original pixels)."""
    return render(intervene(draw_scene(seed, split, index, spurious=spurious), name))


def regions(scene: Scene) -> dict[str, np.ndarray]:
    """Visible pixels (``[224, 224]`` bool) of ``object``, each ``distractor_<k>`` and the ``background``.

    A distractor's region leaves out what later distractors and the object cover; the background
    is every pixel no element covers.  The regions partition the image."""
    out: dict[str, np.ndarray] = {}
    covered = scene.mask.copy()
    for k in reversed(range(len(scene.distractors))):
        m = scene.distractors[k][0] & ~covered
        out[f"distractor_{k}"] = m
        covered |= m
    out = {"object": scene.mask.copy(), **dict(sorted(out.items()))}
    out["background"] = ~covered
    return out
