"""The noise floor: how far an explainer x model moves with no dependency changed.

Repeat runs in one environment put each pair in a determinism class:

* ``bit-identical``: a repeat, 1 against N torch threads, and one image per
  call against the whole batch all give the same bits;
* ``float-tolerance``: they differ, within float rounding (the spread is the
  largest relative L2 distance seen);
* ``seeded-stochastic``: the explainer samples (``ExplainerCfg.stochastic``);
  it is seeded from the case, and its spread is measured the same way.

Where CUDA is present, ``torch.use_deterministic_algorithms`` on and off is
one more axis (PyTorch lists the global-average-pool backward as
non-deterministic on CUDA).  Drift is judged against the floor
(:meth:`NoiseFloor.tolerance`): a map moved when its relative L2 distance
exceeds ``FACTOR`` times the spread and at least :data:`FLOAT_FLOOR`.

The floor lives here, below the drift commands, so that the regression
baselines (:mod:`.regression`) record the same class and spread when they are
written (:meth:`NoiseFloor.baseline_record`); ``harness.drift.noise`` re-exports it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..cases import case_params
from ..compare.change import map_change
from ..core.atomic import write_json
from ..explainers import create_explainer, get_explainer_cfg
from .regression import DETERMINISTIC_TOLERANCES, tolerances_for

CLASSES = ("bit-identical", "float-tolerance", "seeded-stochastic")
FACTOR = 3.0  # drift must exceed the measured spread this many times
FLOAT_FLOOR = 1e-5  # relative L2 below this is float reordering, whatever the floor
IOU_CAP = 0.9


@dataclass(frozen=True)
class Tolerance:
    """When a case counts as moved: any bound broken (``max_rel_l2`` None: not used)."""

    min_cosine: float
    min_iou: float
    max_rel_l2: float | None
    source: str

    def broken(self, change) -> list[str]:
        out = []
        if self.max_rel_l2 is not None and change.rel_l2 > self.max_rel_l2:
            out.append(f"rel L2 {change.rel_l2:.3g} > {self.max_rel_l2:.3g}")
        if change.cosine < self.min_cosine:
            out.append(f"cosine {change.cosine:.4f} < {self.min_cosine:g}")
        if change.iou < self.min_iou:
            out.append(f"top-10% IoU {change.iou:.3f} < {self.min_iou:g}")
        return out


def default_tolerance(explainer: str) -> Tolerance:
    """The regression baselines' tolerances (:mod:`harness.checks.regression`) where no floor was measured."""

    try:
        tol = tolerances_for(get_explainer_cfg(explainer))
    except KeyError:
        tol = DETERMINISTIC_TOLERANCES
    return Tolerance(tol.map_cosine, tol.topk_overlap, None, "default (regression tolerances; no noise floor)")


@dataclass(frozen=True)
class NoiseFloor:
    """The measured floor of one explainer x model."""

    model: str
    explainer: str
    determinism: str  # one of CLASSES
    spread: float  # largest relative L2 distance between repeat runs
    min_cosine: float
    min_iou: float
    axes: tuple[str, ...]  # what was varied
    images: int

    def tolerance(self) -> Tolerance:
        """Bounds from the spread: rel L2 ``FACTOR`` x spread (at least :data:`FLOAT_FLOOR`); cosine and
        top-10 % IoU widened from their measured minima the same way (IoU at most :data:`IOU_CAP`: a float
        change may swap tied pixels at a mask's edge)."""
        bound = max(FACTOR * self.spread, FLOAT_FLOOR)
        cos = min(1.0 - bound * bound / 2.0, 1.0 - FACTOR * (1.0 - self.min_cosine))
        iou = max(0.0, min(IOU_CAP, 1.0 - FACTOR * (1.0 - self.min_iou)))
        return Tolerance(cos, iou, bound, f"noise floor: {self.determinism}, spread {self.spread:.2g}")

    def baseline_record(self) -> dict[str, Any]:
        """The ``noise`` field of a regression baseline file: the class, the spread and how it was measured."""
        return {
            "class": self.determinism,
            "spread": self.spread,
            "measured": {
                "axes": list(self.axes),
                "images": self.images,
                "min_cosine": self.min_cosine,
                "min_top10_iou": self.min_iou,
                "noise_version": NOISE_VERSION,
                "spread_of": "relative L2 distance of full-resolution maps between variants",
            },
        }


def classify(spreads: list[float], *, stochastic: bool) -> str:
    if stochastic:
        return "seeded-stochastic"
    return "bit-identical" if all(s == 0.0 for s in spreads) else "float-tolerance"


def _explainer(model: str, explainer_name: str, params: Mapping[str, Any] | None):
    """The explainer of the case (``params`` None: the case's defaults, :func:`harness.cases.case_params`)."""
    return create_explainer(explainer_name, **dict(case_params(model, explainer_name) if params is None else params))


def measure_floor(
    runner,
    model: str,
    explainer_name: str,
    *,
    images: int = 2,
    threads: int = 2,
    params: Mapping[str, Any] | None = None,
) -> NoiseFloor:
    """Explain the first ``images`` images of ``model`` in variants and measure their spread."""

    cfg = get_explainer_cfg(explainer_name)
    explainer = _explainer(model, explainer_name, params)
    records = list(runner.images_for(model).records[:images])
    loaded = runner.model(model)
    x = runner.batch(model, records)
    target = torch.as_tensor(runner.targets_for(model, records, "pred")[0])

    def run(batch: int) -> np.ndarray:
        parts = [
            explainer(loaded, x[i : i + batch], target[i : i + batch]).attributions for i in range(0, len(x), batch)
        ]
        return np.concatenate(parts)

    before = torch.get_num_threads()
    variants: dict[str, np.ndarray] = {}
    try:
        torch.set_num_threads(1)
        ref = run(len(x))
        variants["repeat"] = run(len(x))
        variants["batch 1"] = run(1)
        torch.set_num_threads(max(threads, 2))
        variants[f"{max(threads, 2)} threads"] = run(len(x))
        if torch.cuda.is_available() and x.is_cuda:
            torch.use_deterministic_algorithms(True, warn_only=True)
            try:
                variants["deterministic algorithms"] = run(len(x))
            finally:
                torch.use_deterministic_algorithms(False)
    finally:
        torch.set_num_threads(before)
    changes = [map_change(r, v) for name, arr in variants.items() for r, v in zip(ref, arr)]
    spreads = [c.rel_l2 for c in changes]
    return NoiseFloor(
        model=model,
        explainer=explainer_name,
        determinism=classify(spreads, stochastic=cfg.stochastic),
        spread=float(max(spreads, default=0.0)),
        min_cosine=float(min((c.cosine for c in changes), default=1.0)),
        min_iou=float(min((c.iou for c in changes), default=1.0)),
        axes=tuple(variants),
        images=len(records),
    )


NOISE_KIND = "noise"
NOISE_VERSION = "1"  # bumped when the variants measured change


def stored_floor(
    runner,
    model: str,
    explainer_name: str,
    *,
    images: int = 2,
    threads: int = 2,
    params: Mapping[str, Any] | None = None,
) -> NoiseFloor:
    """:func:`measure_floor`, kept in the runner's store under the model's and explainer's key fields
    (library versions included), so a rerun in the same environment measures nothing."""

    explainer = _explainer(model, explainer_name, params)
    records = runner.images_for(model).records[:images]
    fields = {
        **runner.model_fields(model),
        "explainer": explainer_name,
        "explainer_version": explainer.cfg.version,
        "params": explainer.param_dict,
        "images": [runner.digest(r) for r in records],
        "threads": max(threads, 2),
        "noise_version": NOISE_VERSION,
    }
    entry = runner.store.get(NOISE_KIND, fields)
    if entry is not None:
        doc = json.loads(entry.arrays["floor"].tobytes().decode())
        return NoiseFloor(**{**doc, "axes": tuple(doc["axes"])})
    floor = measure_floor(runner, model, explainer_name, images=images, threads=threads, params=params)
    raw = json.dumps(asdict(floor)).encode()
    runner.store.put(NOISE_KIND, fields, {"floor": np.frombuffer(raw, dtype=np.uint8)})
    return floor


def write_floors(path: Path, floors: list[NoiseFloor]) -> None:
    write_json(path, {"noise_floors": [asdict(f) for f in floors]})


def read_floors(path: Path) -> dict[tuple[str, str], NoiseFloor]:
    """Floors keyed by (model, explainer) from :func:`write_floors`' file."""
    doc: dict[str, Any] = json.loads(Path(path).read_text())
    out = {}
    for f in doc.get("noise_floors", []):
        floor = NoiseFloor(**{**f, "axes": tuple(f["axes"])})
        out[(floor.model, floor.explainer)] = floor
    return out
