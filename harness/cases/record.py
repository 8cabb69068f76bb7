"""The case record: one model x explainer with its parameters, and how many images it explains.

The suites parametrise over :class:`Case` objects (``harness.suite.make_case``),
the grid of ``python -m harness run`` plans them (:func:`harness.suite.grid.plan_grid`),
and the runner computes them: one record, so the two sides can only agree on
parameters, seeds and image limits.  :func:`case_params` and
:func:`image_limit` are the case policy both read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..core.seeds import seed_for
from ..explainers import Explainer, ExplainerCfg, create_explainer, get_explainer_cfg


def case_params(model: str, explainer: str) -> tuple[tuple[str, Any], ...]:
    """A case's parameters over the explainer's defaults: a seed from ``<explainer>-<model>`` if stochastic."""
    return (("seed", seed_for(f"{explainer}-{model}")),) if get_explainer_cfg(explainer).stochastic else ()


def image_limit(cfg: ExplainerCfg, costly_images: int | None) -> int | None:
    """How many images a case explains: all for cheap explainers, else the first ``costly_images`` (None/0: all)."""
    if cfg.cost == "cheap" or not costly_images:
        return None
    return costly_images


@dataclass(frozen=True)
class Case:
    """One model x explainer pair (parameters as sorted pairs).

    ``limit`` is how many images of the model's set the case explains, the
    first ``limit`` (None: all, or, in a pytest session, what the session's
    ``--harness-costly-images`` says: see :meth:`limited`).
    """

    model: str
    explainer: str
    params: tuple[tuple[str, Any], ...] = ()
    limit: int | None = None

    @property
    def id(self) -> str:
        return f"{self.explainer}-{self.model}"

    @property
    def cfg(self) -> ExplainerCfg:
        return get_explainer_cfg(self.explainer)

    def create(self) -> Explainer:
        """The explainer with the case's parameters."""
        return create_explainer(self.explainer, **dict(self.params))

    def limited(self, costly_images: int | None) -> Case:
        """This case with the image limit that ``costly_images`` gives its explainer (:func:`image_limit`)."""
        return replace(self, limit=image_limit(self.cfg, costly_images))
