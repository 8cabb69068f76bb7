"""Score a computed case with a metric: the library side of the metric suite.

:func:`score_result` takes a :class:`~harness.compute.runner.CaseResult` (what
``Runner.explain`` returned), prepares the metric's inputs from the same
images (preprocessed pixels, object masks, re-explanations for other
targets or a randomised model) and calls
:func:`~harness.metrics.evaluate.evaluate_case`, which stores the scores and
the random control's.  The suite layer (``harness.suite.metrics``) and
``python -m harness.suite.controls`` both go through it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..checks.localisation import case_masks
from ..compute.runner import CHUNK, CaseResult, Runner
from ..explainers import Explainer
from ..images import image_digest, preprocess, read_image
from ..models import get_model_cfg
from .evaluate import CONTROL, MetricResult, control_maps, evaluate_case, fetch_case
from .inputs import MetricInputs
from .registry import get_metric_cfg


def explain_on(loaded, module, explainer, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``explainer``'s ``[N, H, W]`` maps of ``x`` on ``module`` in place of the loaded model's (not stored)."""

    other = dataclasses.replace(loaded, module=module)
    chunk = CHUNK[explainer.cfg.cost]
    out = [
        explainer(
            other, torch.from_numpy(x[i : i + chunk]).to(loaded.device), torch.as_tensor(targets[i : i + chunk])
        ).attributions
        for i in range(0, len(x), chunk)
    ]
    return np.concatenate(out)


def _metric_inputs(runner: Runner, result: CaseResult, explainer: Explainer, metric: str, loaded, records, digests):
    """What a metric reads for the case's first ``len(records)`` images: the model's input, the masks it
    needs, and how to explain other targets or another module, for the explainer and the random control."""
    model, n, cfg = result.model, len(records), get_model_cfg(result.model)
    x = preprocess([read_image(r.path) for r in records], cfg).numpy()
    masks = None
    if get_metric_cfg(metric).needs_masks:
        all_masks = case_masks(result, runner)
        masks = None if all_masks is None else all_masks[:n]
    shape = result.attributions[:n].shape
    explain = {
        explainer.name: lambda t: runner.explain(model, explainer, targets=np.asarray(t), limit=n).attributions,
        CONTROL: lambda t: control_maps(shape, f"{model}-off{list(map(int, t))}", digests),
    }
    explain_model = {
        explainer.name: lambda module: explain_on(loaded, module, explainer, x, result.targets[:n]),
        CONTROL: lambda module: control_maps(shape, model, digests),  # model-independent: MPRT's control
    }
    return MetricInputs(
        loaded.module, x, result.targets[:n], cfg.num_classes, masks=masks, explain=explain, explain_model=explain_model
    )


def score_result(
    runner: Runner,
    result: CaseResult,
    explainer: Explainer,
    metric: str,
    *,
    n_images: int,
    overrides: dict[str, object] | None = None,
) -> MetricResult:
    """Score ``result``'s first ``n_images`` explanations with ``metric`` next to the random control.

    ``result`` is what ``runner.explain(model, explainer)`` returned;
    explanations of other targets (RandomLogit) and of a randomised model
    (MPRT) go through the same explainer.  Fetched from and written to the
    runner's store.  A stored score (and its control) is returned without loading the model or
    preparing any input.
    """

    model = result.model
    n = min(n_images, len(result.records))
    records = result.records[:n]
    src = runner.weights_for(model)
    cfg = get_model_cfg(model)
    base = {"model": model, "arch": cfg.arch, "weights": src.sha256}
    digests = [
        runner.digest(r) if r in runner.images_for(model).records else image_digest(read_image(r.path)) for r in records
    ]
    stored = fetch_case(
        runner.store,
        metric,
        result.targets[:n],
        base=base,
        explainer=explainer.name,
        explainer_params=explainer.param_dict,
        explainer_version=explainer.cfg.version,
        digests=digests,
        **(overrides or {}),
    )
    if stored is not None:
        return stored
    loaded = runner.model(model)
    inp = _metric_inputs(runner, result, explainer, metric, loaded, records, digests)
    meta = {
        "family": cfg.family,
        "label_space": cfg.label_space,
        "model_label": loaded.label,
        "weights_kind": loaded.weights.kind,
    }
    return evaluate_case(
        inp,
        result.attributions[:n],
        metric,
        store=runner.store,
        base=base,
        explainer=explainer.name,
        explainer_params=explainer.param_dict,
        explainer_version=explainer.cfg.version,
        digests=digests,
        meta=meta,
        **(overrides or {}),
    )
