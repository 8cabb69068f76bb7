"""Suite helpers for the metric cases: ``<explainer>-<model>-<category>_<metric>``.

``metric_params()`` yields one ``pytest.param(case, metric)`` per model x
explainer x applicable metric (tags: masks only where the model's label
space has them), so ``pytest suites/ -k faithfulness`` (``randomisation``,
``localisation``, ``complexity``) selects a category.  ``run_metric`` scores
the case's first ``--harness-metric-images`` images (default 4) and the
random-attribution control, stores both, and records them for the report.

Gating: a metric tagged ``gate`` (PixelFlipping, RelevanceMassAccuracy) **fails** the case when the explainer does not beat
the random control on a model with real weights, unless
:data:`KNOWN_NON_SEPARATING` lists the pair (then ``xfail``).  The other
metrics record the comparison and the leaderboard flags "cannot tell from
random"; metrics legitimately disagree (RandomLogit, for one, rewards maps
that change with the target, which random maps do by construction), and
FaithfulnessCorrelation at the default 4 images x 16 runs is too noisy to gate on
(measured on zoo_resnet: Grad-CAM -0.003, random -0.019, Saliency -0.040).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from ..checks import MASKED_LABEL_SPACES
from ..explainers import create_explainer, get_explainer_cfg, list_explainers
from ..images import image_digest, preprocess, read_image
from ..models import WeightsUnavailable, get_model_cfg
from ..plugin import PROP_CASE, PROP_SKIP
from ..session import Case, HarnessSession
from ..suite import case_marks, make_case, suite_models
from .evaluate import MetricResult, control_maps, evaluate_case
from .inputs import MetricInputs
from .registry import MetricCfg, get_metric_cfg, yield_metrics

DEFAULT_IMAGES = 4
# (explainer, model, metric) -> reason; "*" is a wildcard.  Filled only from measurements.
KNOWN_NON_SEPARATING: dict[tuple[str, str, str], str] = {
    # Measured with `python -m harness.metrics.controls` (harness/metrics/controls.py).  Not softmax
    # saturation: on logits (pixel_flipping.softmax=False) Grad-CAM loses to random by more.  Likely
    # the perturbation's shape: random orders scatter black pixels over the whole image, which breaks
    # these CNNs faster than Grad-CAM's contiguous 7x7-cell blocks do (ROAD's argument); IG beats random.
    ("gradcam", "efficientnet_lite0", "pixel_flipping"): (
        "Grad-CAM 0.968 vs random 0.520 at 4 images (lower is better); 0.686 vs 0.697 at 8 images (won 5/8), "
        "on logits 28.9 vs 23.4 (loses); IG 0.281 beats random"),
    ("gradcam", "efficientnet_lite1", "pixel_flipping"): (
        "measured at 8 images, 12 steps: Grad-CAM 0.662 vs random 0.507 (lower is better), on logits 28.2 vs "
        "24.2; IG 0.251 beats random"),
    ("gradcam", "efficientnet_lite2", "pixel_flipping"): (
        "measured at 8 images, 12 steps: Grad-CAM 0.765 vs random 0.615 (lower is better), on logits 26.8 vs "
        "24.7"),
}


def _known(explainer: str, model: str, metric: str) -> str | None:
    for (e, m, k), reason in KNOWN_NON_SEPARATING.items():
        if e in (explainer, "*") and m in (model, "*") and k in (metric, "*"):
            return reason
    return None


def metric_explainers(spec: str = "regression") -> list[str]:
    """The explainers the metric suite scores: ``regression`` (the default), ``all``, or ``name,name``.

    ``regression`` picks by tag the explainers tagged ``regression=True``
    (Grad-CAM, IG, KernelSHAP, Saliency: one per family, whose maps the
    regression suite computes and stores anyway), which keeps the default
    suite to a few hundred cases; ``all`` scores every registered explainer.
    """
    spec = (spec or "regression").strip()
    if spec == "all":
        return list_explainers()
    if spec == "regression":
        return [n for n in list_explainers() if get_explainer_cfg(n).regression]
    names = [n.strip() for n in spec.split(",") if n.strip()]
    for n in names:
        get_explainer_cfg(n)  # unknown names fail at collection, with the registry's hint
    return names


def metric_params(models: Iterable[str] | None = None, explainers: Iterable[str] | None = None):
    out = []
    for model in models or suite_models():
        mcfg = get_model_cfg(model)
        for name in metric_explainers() if explainers is None else explainers:
            for cfg in yield_metrics(mcfg, get_explainer_cfg(name), has_masks=mcfg.label_space in MASKED_LABEL_SPACES):
                marks = case_marks(model, name)
                reason = _known(name, model, cfg.name) if cfg.gate else None
                if reason:
                    marks.append(pytest.mark.xfail(reason=reason, strict=False))
                out.append(pytest.param(make_case(model, name), cfg.name, marks=marks,
                                        id=f"{name}-{model}-{cfg.case_name}"))
    return out


def parse_overrides(items: Iterable[str]) -> dict[str, dict[str, object]]:
    """``["pixel_flipping.steps=24", ...]`` -> ``{"pixel_flipping": {"steps": 24}}`` (values as Python literals)."""
    import ast

    out: dict[str, dict[str, object]] = {}
    for item in items:
        key, _, value = item.partition("=")
        metric, _, param = key.partition(".")
        if not param or not value:
            raise ValueError(f"--harness-metric-param wants METRIC.KEY=VALUE, got {item!r}")
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed = value
        out.setdefault(metric, {})[param] = parsed
    return out


def score_case(harness: HarnessSession, case: Case, metric: str, *, n_images: int,
               overrides: dict[str, object] | None = None) -> MetricResult:
    """Compute (or fetch) the case's explanations, then the metric on its first ``n_images`` images."""
    from ..checks.localisation import case_masks

    runner = harness.runner
    result = harness.result(case)
    n = min(n_images, len(result.records))
    records = result.records[:n]
    loaded = runner.model(case.model)
    cfg = loaded.cfg
    pixels = [read_image(r.path) for r in records]
    digests = [image_digest(p) for p in pixels]
    x = preprocess(pixels, cfg).numpy()
    masks = None
    if get_metric_cfg(metric).needs_masks:
        all_masks = case_masks(result, runner)
        masks = None if all_masks is None else all_masks[:n]
    explainer = create_explainer(case.explainer, **dict(case.params))
    attr = result.attributions[:n]
    explain = {
        case.explainer: lambda t: runner.explain(case.model, explainer, targets=np.asarray(t), limit=n).attributions,
        "random": lambda t: control_maps(attr.shape, f"{case.model}-off{list(map(int, t))}", digests),
    }
    inp = MetricInputs(loaded.module, x, result.targets[:n], cfg.num_classes, masks=masks, explain=explain)
    src = runner.weights_for(case.model)
    base = {"model": case.model, "arch": cfg.arch, "weights": src.sha256}
    meta = {"family": cfg.family, "label_space": cfg.label_space, "model_label": loaded.label,
            "weights_kind": loaded.weights.kind}
    return evaluate_case(inp, attr, metric, store=runner.store, base=base, explainer=case.explainer,
                         explainer_params=explainer.param_dict, explainer_version=explainer.cfg.version,
                         digests=digests, meta=meta, **(overrides or {}))


def run_metric(request: pytest.FixtureRequest, harness: HarnessSession, case: Case, metric: str) -> MetricResult:
    __tracebackhide__ = True
    try:
        harness.require_weights(case.model)
    except WeightsUnavailable as exc:
        request.node.user_properties.append((PROP_SKIP, (case.model, str(exc))))
        pytest.skip(str(exc))
    cfg: MetricCfg = get_metric_cfg(metric)
    info = {"id": request.node.callspec.id, "model": case.model, "explainer": case.explainer, "check": metric}
    request.node.user_properties.append((PROP_CASE, info))
    n = request.config.getoption("harness_metric_images", DEFAULT_IMAGES) or DEFAULT_IMAGES
    overrides = parse_overrides(request.config.getoption("harness_metric_param", []) or [])
    res = score_case(harness, case, metric, n_images=n, overrides=overrides.get(metric))
    verdict = "beats random" if res.separates else "cannot tell from random"
    info["value"] = (f"{metric} {res.score:.4g} vs random {res.control_score:.4g} "
                     f"({'higher' if res.higher_is_better else 'lower'} is better; {verdict}; {len(res.scores)} images)")
    if cfg.gate and not res.separates and harness.runner.weights_for(case.model).kind != "random":
        pytest.fail(f"{metric}: {case.explainer} scores {res.score:.4g}, random attributions "
                    f"{res.control_score:.4g} ({'higher' if res.higher_is_better else 'lower'} is better): "
                    f"the metric cannot tell them apart on {len(res.scores)} images [{case.id}]", pytrace=False)
    return res
