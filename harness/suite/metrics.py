"""Suite helpers for the metric cases: ``<explainer>-<model>-<category>_<metric>``.

``metric_params()`` yields one ``pytest.param(case, metric)`` per model x
explainer x applicable metric (tags: masks only where the model's label
space has them), so ``pytest suites/ -k faithfulness`` (``randomisation``,
``localisation``, ``complexity``) selects a category.  ``run_metric`` scores
the case's first ``--harness-metric-images`` images (default 4) and the
random-attribution control, stores both, and records them for the report.

Gating: a metric tagged ``gate`` (PixelFlipping, RelevanceMassAccuracy)
**fails** the case when the explainer does not beat the random control on
a model with real weights, unless
the known-failure table (``harness.suite.known``) lists the pair (then ``xfail``).  The other
metrics record the comparison and the leaderboard flags "cannot tell from
random"; metrics legitimately disagree (RandomLogit, for one, rewards maps
that change with the target, which random maps do by construction; MPRT's
control is model-independent maps, which score the worst similarity, 1, by
construction: harness/metrics/mprt.py), and
FaithfulnessCorrelation at the default 4 images x 16 runs is too noisy to gate on
(measured on zoo_resnet: Grad-CAM -0.003, random -0.019, Saliency -0.040).
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from ..checks import yield_checks
from ..explainers import create_explainer, get_explainer_cfg, list_explainers
from ..metrics.evaluate import MetricResult
from ..metrics.registry import get_metric_cfg
from ..metrics.score import score_result
from ..models import get_model_cfg
from ..report.records import CaseRecord
from .cases import case_param, make_case, record_case, skip_without_weights, supported_pairs
from .session import Case, HarnessSession


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


def metric_params(
    models: Iterable[str] | None = None, explainers: Iterable[str] | None = None, opt_in: Iterable[str] = ()
):
    """``pytest.param(case, metric)`` per supported model x explainer x applicable metric: the
    ``reads="metric"`` checks of the one generator (:func:`harness.checks.yield_checks`)."""
    out = []
    opt_in = set(opt_in)
    for model, name in supported_pairs(models, metric_explainers() if explainers is None else explainers):
        for spec in yield_checks(get_model_cfg(model), get_explainer_cfg(name), reads=("metric",), opt_in=opt_in):
            out.append(case_param(make_case(model, name), spec.metric, model=model, explainer=name, check=spec.name))
    return out


def score_case(
    harness: HarnessSession,
    case: Case,
    metric: str,
    *,
    n_images: int | None = None,
    overrides: dict[str, object] | None = None,
) -> MetricResult:
    """Compute (or fetch) the case's explanations, then score its first images.

    ``n_images`` and ``overrides`` default to the run's options
    (``--harness-metric-images``, ``--harness-metric-param``).
    """
    explainer = create_explainer(case.explainer, **dict(case.params))
    return score_result(
        harness.runner,
        harness.result(case),
        explainer,
        metric,
        n_images=n_images or harness.options.metric_images,
        overrides=harness.options.overrides_for(metric) if overrides is None else overrides,
    )


def run_metric(request: pytest.FixtureRequest, harness: HarnessSession, case: Case, metric: str) -> MetricResult:
    __tracebackhide__ = True
    skip_without_weights(request, harness, case.model)
    cfg = get_metric_cfg(metric)
    record = record_case(
        request,
        CaseRecord(id=request.node.callspec.id, model=case.model, explainer=case.explainer, check=cfg.case_name),
    )
    store = harness.runner.store
    misses = store.misses
    res = score_case(harness, case, metric)
    record.replayed = store.misses == misses  # every explanation, prediction and score came from the store
    record.value = res.summary()
    if cfg.gate and not res.separates and harness.runner.weights_for(case.model).kind != "random":
        pytest.fail(res.gate_failure(case.id), pytrace=False)
    return res
