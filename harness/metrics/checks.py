"""The metrics as checks of the one catalogue (:mod:`harness.checks.catalogue`).

Importing :mod:`harness.metrics` adds :func:`metric_checks` as a check source, so
``yield_checks`` yields one ``reads="metric"`` :class:`~harness.checks.CheckSpec` per
metric that applies to a pair (:func:`~harness.metrics.registry.yield_metrics`'s tags:
masks, the default budget), with the metric suite's id part
(``faithfulness_pixel_flipping``).  Its run scores the case's first images next to the
random-attribution control and fails a gated metric (``MetricCfg.gate``) that cannot tell
the explainer from random on a model with real weights, as the metric suite does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import cache, partial
from typing import Any

from ..checks import CheckSpec, add_check_source
from ..checks.basic import CheckFailure
from .registry import get_metric_cfg, yield_metrics
from .score import score_result


def run_metric_check(
    metric: str, runner, result, explainer, n_images: int, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Score ``result`` with ``metric``; returns the report's value, raises :class:`CheckFailure` on a failed gate."""
    __tracebackhide__ = True
    res = score_result(runner, result, explainer, metric, n_images=n_images, overrides=overrides)
    if get_metric_cfg(metric).gate and not res.separates and runner.weights_for(result.model).kind != "random":
        raise CheckFailure(res.gate_failure(f"{explainer.name}-{result.model}"))
    return res.summary()


@cache
def metric_spec(metric: str) -> CheckSpec:
    cfg = get_metric_cfg(metric)
    return CheckSpec(
        cfg.case_name,
        "metric",
        partial(run_metric_check, metric),
        needs_masks=cfg.needs_masks,
        metric=metric,
        doc=f"{cfg.title} next to the random control",
    )


def metric_checks(model_cfg, explainer_cfg, *, has_masks: bool, opt_in: Collection[str] = ()) -> Iterator[CheckSpec]:
    for cfg in yield_metrics(model_cfg, explainer_cfg, has_masks=has_masks, opt_in=opt_in):
        yield metric_spec(cfg.name)


add_check_source(metric_checks)
