"""Run state of one harness session (pytest-free; the plugin keeps one in ``config.stash``).

It owns the :class:`~harness.runner.Runner` (created on first use, so unit
tests that never touch a case pay nothing), memoises case results and
their failures, and gathers what the report needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .explainers import create_explainer
from .images import image_set_from_spec
from .models import WeightsOptions, get_model_cfg
from .runner import CaseResult, Progress, Runner
from .store import Store
from .zoo.shapes import LABEL_SPACE, shapes_images


@dataclass(frozen=True)
class HarnessOptions:
    store: Path
    reports: Path
    images: str = "builtin"
    max_images: int | None = None
    zoo_images: int = 8
    # moderate and expensive explainers explain only the first N images of each set (None: all)
    costly_images: int | None = 8
    weights: tuple[str, ...] = ()
    allow_download: bool = False
    device: str = "auto"
    write_report: bool = True
    baselines: Path | None = None
    regen: bool = False
    same_prediction: bool = False


@dataclass(frozen=True)
class Case:
    """One model x explainer pair (parameters as sorted pairs)."""

    model: str
    explainer: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        return f"{self.explainer}-{self.model}"


@dataclass
class HarnessSession:
    options: HarnessOptions
    rootdir: Path
    progress: Progress | None = None
    cases: list[dict[str, Any]] = field(default_factory=list)
    top1: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped_models: dict[str, str] = field(default_factory=dict)
    bad_images: dict[str, str] = field(default_factory=dict)
    _runner: Runner | None = None
    _results: dict[Case, CaseResult | BaseException] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        return self._runner is not None

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            main = image_set_from_spec(self.options.images).head(self.options.max_images)
            space = main.records[0].label_space if main.records else "imagenet"
            images = {space: main}
            if space != LABEL_SPACE and self.options.zoo_images > 0:  # the zoo's own test images
                images[LABEL_SPACE] = shapes_images(
                    "test", self.options.zoo_images, root=self.options.store.parent / "datasets"
                )
                images[LABEL_SPACE] = images[LABEL_SPACE].head(self.options.max_images)
            weights = WeightsOptions.from_env(self.options.weights, self.options.allow_download or None)
            self._runner = Runner(
                Store(self.options.store), images, weights=weights, device=self.options.device, progress=self.progress
            )
            self.bad_images.update(self._runner.bad_images)
        return self._runner

    def require_weights(self, model: str) -> None:
        """Raise WeightsUnavailable if ``model`` has no weights (the suites turn it into a skip)."""
        self.runner.weights_for(model)

    def result(self, case: Case) -> CaseResult:
        """The case's explanations, computed once per session (failures too)."""
        self.require_weights(case.model)
        if case not in self._results:
            try:
                explainer = create_explainer(case.explainer, **dict(case.params))
                self._results[case] = self.runner.explain(case.model, explainer, limit=self.image_limit(explainer))
            except Exception as exc:  # remembered, so sibling checks fail fast with the same error
                self._results[case] = exc
        res = self._results[case]
        if isinstance(res, BaseException):
            raise res
        return res

    def image_limit(self, explainer) -> int | None:
        """How many images a case of ``explainer`` explains: all, or ``costly_images``
        for moderate and expensive explainers (LIME, KernelSHAP, IG, Score-CAM, ...)."""
        if explainer.cfg.cost == "cheap" or not self.options.costly_images:
            return None
        return self.options.costly_images

    def top1_for(self, model: str) -> dict[str, Any]:
        """Top-1 of ``model`` on the labelled images (overall and on foolbox's 20)."""
        self.require_weights(model)
        preds = self.runner.predictions(model)
        correct, labelled = preds.correct()
        fool = [(r, int(p)) for r, p in zip(preds.records, preds.top1) if r.id.startswith("foolbox/")]
        cfg = get_model_cfg(model)
        row = {
            "family": cfg.family,
            "weights": self.runner.weights_for(model).kind,
            "correct": correct,
            "labelled": labelled,
            "top1": correct / labelled if labelled else None,
            "foolbox_correct": sum(r.accepts(p) for r, p in fool),
            "foolbox_total": len(fool),
            "misses": [
                f"{r.id}: {p}"
                for r, p in zip(preds.records, preds.top1)
                if r.label is not None and not r.accepts(int(p))
            ],
        }
        self.top1[model] = row
        return row

    def store_stats(self) -> dict[str, int]:
        if self._runner is None:
            return {}
        s = self._runner.store
        return {"hits": s.hits, "misses": s.misses, "writes": s.writes}
