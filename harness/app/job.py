"""One request of the app as plain Python: a picture, models and explainers in; a grid out, step by step.

:func:`explore` is a generator: it yields after each prediction and each
map, so the page can show progress and stop between two maps when the user
cancels.  A model that fails to load or an explainer that fails on one
model leaves a note in its cells and the rest of the grid goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from ..explainers import get_explainer_cfg
from ..explainers.registry import ExplainerCfg
from ..models import ModelCfg, get_model_cfg
from .checks import single_image_checks
from .render import Cell, Grid
from .session import ExploreSession
from .uploads import Picture

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Comparison:
    """The one-click comparison: a CNN's map beside a ViT's (the CAM-versus-rollout study's figure)."""

    cnn_explainer: str = "gradcam"
    vit_explainer: str = "rollout"

    def select(self, models: list[str]) -> tuple[list[str], list[str]]:
        """``([cnn, vit], [cnn_explainer, vit_explainer])`` from ``models``: the first CNN the CNN explainer
        supports and the first transformer the ViT explainer supports, in one label space where possible."""
        cnn_cfg, vit_cfg = get_explainer_cfg(self.cnn_explainer), get_explainer_cfg(self.vit_explainer)
        cnns = [m for m in models if get_model_cfg(m).family == "cnn" and cnn_cfg.supports(get_model_cfg(m))]
        vits = [m for m in models if get_model_cfg(m).family == "transformer" and vit_cfg.supports(get_model_cfg(m))]
        if not cnns or not vits:
            raise ValueError(
                f"the comparison needs a CNN for {self.cnn_explainer} and a transformer for {self.vit_explainer} "
                f"among the app's models ({', '.join(models) or 'none'})"
            )
        shared = [(c, v) for c in cnns for v in vits if get_model_cfg(c).label_space == get_model_cfg(v).label_space]
        cnn, vit = shared[0] if shared else (cnns[0], vits[0])
        return [cnn, vit], [self.cnn_explainer, self.vit_explainer]


def why_not(model: ModelCfg, explainer: ExplainerCfg) -> str:
    """Why ``explainer`` does not apply to ``model`` (empty when it does)."""
    if model.family not in explainer.families:
        return f"n/a: {explainer.name} is for {', '.join(explainer.families)} models"
    if explainer.needs_tokens and model.layout != "tokens":
        return f"n/a: {explainer.name} needs a token model"
    missing = sorted(set(explainer.requires) - set(model.traits))
    return f"n/a: {explainer.name} needs {', '.join(missing)}" if missing else ""


@dataclass(frozen=True)
class Step:
    """Progress of a request: ``done`` of ``total`` steps, the last one in words, and the grid so far."""

    done: int
    total: int
    what: str
    grid: Grid


def explore(
    session: ExploreSession, picture: Picture, models: list[str], explainers: list[str], *, rank: int = 1
) -> Iterator[Step]:
    """Predict with every model, then explain each model x explainer, yielding after each step."""
    if rank not in (1, 2):
        raise ValueError(f"rank must be 1 (top-1) or 2 (second-ranked class), not {rank}")
    grid = Grid(picture, list(models), list(explainers), rank)
    total = len(models) * (1 + len(explainers))
    done = 0
    broken: dict[str, str] = {}
    for m in models:
        try:
            grid.predictions[m] = session.predict(m, picture)
        except Exception as exc:  # a model that cannot load: its row says why, the others go on
            log.exception("explore: %s failed to predict on %s", m, picture.id)
            broken[m] = f"{m} failed: {type(exc).__name__}: {exc}"
        done += 1
        yield Step(done, total, f"predicted with {m}", grid)
    for m in models:
        for e in explainers:
            grid.cells[(m, e)] = _cell(session, picture, m, e, rank, broken.get(m, ""))
            done += 1
            yield Step(done, total, f"{e} on {m}", grid)


def _cell(session: ExploreSession, picture: Picture, m: str, e: str, rank: int, broken: str) -> Cell:
    if broken:
        return Cell(m, e, note=broken)
    reason = why_not(get_model_cfg(m), get_explainer_cfg(e))
    if reason:
        return Cell(m, e, note=reason)
    try:
        top1 = session.explain(m, e, picture, rank=1)
        shown = top1 if rank == 1 else session.explain(m, e, picture, rank=rank)
        return Cell(m, e, result=shown, checks=single_image_checks(session, picture, shown, top1))
    except Exception as exc:  # one explainer failing on one model must not take the grid down
        log.exception("explore: %s on %s failed for %s", e, m, picture.id)
        return Cell(m, e, note=f"{e} failed: {type(exc).__name__}: {exc}")
