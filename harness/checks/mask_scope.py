"""What the object masks can vouch for, per model: the localisation check's judgement (issue 26, item 3).

``check_localisation`` compares a map with the object mask, which assumes the model uses the object
and nothing else.  For a zoo model the stored interventions say whether it does
(:func:`harness.checks.interventions.usage` on the ``N_EVAL`` class-balanced ``test`` images whose logits
:mod:`harness.zoo.effects` keeps in the store, kind ``intervention``).  One of three judgements applies:

* ``mask`` (a model outside the ``shapes`` world, or one that uses the object only): relevance mass on
  the object above the random-attribution control's, as always;
* ``object_found`` (the model uses the object *and* the background or a distractor): the mask still
  vouches that the object is used, but not that the rest of the image is not, so a map may rightly spread
  off the object.  The check fails only a map that does not find the object at all: relevance mass
  *and* pointing game both not above the random control's;
* ``unjudged`` (the model does not use the object): the mask vouches for nothing; the scores are
  recorded, the case passes.

The judgement is a function of the model's store identity and the code (the interventions are
rendered from fixed seeds), so :func:`scope_inputs` adds exactly that to the check's replay key.
"""

from __future__ import annotations

import weakref
from dataclasses import asdict, dataclass
from typing import Any

from ..models import get_model_cfg
from ..zoo.effects import EFFECTS_VERSION, N_EVAL, evaluated_refs, in_shapes_world, stored_effects
from .interventions import EPS_REL, USES_MIN_SHARE, beyond_object, usage, uses_object

JUDGEMENTS = ("mask", "object_found", "unjudged")


@dataclass(frozen=True)
class MaskScope:
    """Which judgement applies, and the intervention usage behind it (None outside the shapes world)."""

    judgement: str
    why: str
    usage: dict[str, float] | None = None
    n_images: int = 0

    def __post_init__(self) -> None:
        if self.judgement not in JUDGEMENTS:
            raise ValueError(f"mask scope: judgement must be one of {JUDGEMENTS}, got {self.judgement!r}")


def _count(share: float, n: int) -> str:
    return f"{round(share * n)}/{n}"


def scope_from_usage(use: dict[str, float] | None, n_images: int = N_EVAL) -> MaskScope:
    """The judgement for a model whose intervention usage shares are ``use`` (None: no interventions)."""
    if use is None:
        return MaskScope("mask", "no interventions for this model (outside the shapes world): object mask")
    if not uses_object(use):
        why = (
            f"model uses the object on {_count(use['object'], n_images)} images (interventions, "
            f"< {USES_MIN_SHARE}): the mask vouches for nothing, not judged"
        )
        return MaskScope("unjudged", why, use, n_images)
    extra = beyond_object(use)
    if not extra:
        why = (
            f"model uses the object on {_count(use['object'], n_images)} images and nothing else "
            f"(interventions): object mask"
        )
        return MaskScope("mask", why, use, n_images)
    also = " and ".join(f"the {k} on {_count(use[k], n_images)} images" for k in extra)
    why = f"model also uses {also} (interventions): judged on whether the map finds the object at all"
    return MaskScope("object_found", why, use, n_images)


_SCOPES: weakref.WeakKeyDictionary[Any, dict[str, MaskScope]] = weakref.WeakKeyDictionary()


def model_scope(runner: Any, model: str) -> MaskScope:
    """The judgement for ``model``, from its stored intervention logits on ``runner``'s store (measured and
    stored on a miss; the model is loaded only then).  Once per runner and model."""
    if runner is None:
        return scope_from_usage(None)
    cfg = get_model_cfg(model)
    if not in_shapes_world(cfg):
        return scope_from_usage(None)
    per_runner = _SCOPES.setdefault(runner, {})
    if model not in per_runner:
        effects = stored_effects(
            lambda: runner.model(model),
            evaluated_refs(cfg),
            store=runner.store,
            model_fields=runner.model_fields(model),
        )
        per_runner[model] = scope_from_usage(usage(effects), len(effects))
    return per_runner[model]


def scope_inputs(runner: Any, model: str) -> dict[str, Any] | None:
    """What decides :func:`model_scope`, for the localisation check's replay key: the model's store identity,
    the evaluated scenes and the thresholds; None outside the shapes world (the judgement is fixed there)."""
    cfg = get_model_cfg(model)
    if not in_shapes_world(cfg):
        return None
    return {
        "model": runner.model_fields(model),
        "scenes": [asdict(r) for r in evaluated_refs(cfg)],
        "version": EFFECTS_VERSION,
        "eps_rel": EPS_REL,
        "uses_min_share": USES_MIN_SHARE,
    }
