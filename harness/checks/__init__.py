"""Property checks and the one generator that picks them per case by tags.

``yield_checks(model_cfg, explainer_cfg)`` yields the :class:`CheckSpec` of every
check that applies, judged by tags, never by names (:mod:`harness.checks.catalogue`):
the basic checks and localisation, which read the case's explanations; the property
checks (:mod:`harness.checks.properties`: completeness, conservation, randomisation
sanity, the grid score), which read the model; and the metrics, which register
themselves when :mod:`harness.metrics` is imported.  Whether the explainer supports
the model at all is asked first (the suite layer's ``supports()``, for every
generator).  Known failures are the suite layer's one table (``harness.suite.known``).
The same generator runs without pytest (``check_all``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Iterable
from typing import Any

from ..core.seeds import seed_for
from ..models import get_model_cfg
from . import properties
from .basic import CheckFailure, check_finite, check_not_constant, check_shape, check_target_respected
from .catalogue import (
    BASIC,
    CHECKS,
    LOCALISATION,
    MASKED_LABEL_SPACES,
    READS,
    CheckSpec,
    add_check_source,
    has_masks,
    register_check,
    yield_checks,
)
from .localisation import check_localisation

Check = Callable[..., object]

BASIC_CHECKS: tuple[Check, ...] = (check_shape, check_finite, check_not_constant, check_target_respected)


def _wanted(name: str, checks: str | Iterable[str] | None) -> bool:
    if checks is None:
        return True
    patterns = [checks] if isinstance(checks, str) else list(checks)
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def run_spec(spec: CheckSpec, runner, model: str, explainer, result=None, *, metric_images: int = 4) -> Any:
    """Run one check of a case outside pytest and return its value (raises :class:`CheckFailure`)."""
    __tracebackhide__ = True
    if spec.reads != "model":
        result = result if result is not None else runner.explain(model, explainer)
    if spec.reads == "explanations":
        return spec.run(result, runner)
    if spec.reads == "metric":
        return spec.run(runner, result, explainer, metric_images)
    values: list[Any] = []
    spec.run(
        runner,
        model,
        explainer.name,
        params=explainer.params,
        seed=seed_for(f"{explainer.name}-{model}-{spec.name}"),
        record=lambda label, value: values.append(value),
    )
    return values[-1] if values else None


def check_all(
    runner, model: str, explainer, *, checks: str | Iterable[str] | None = None, reads: Collection[str] = READS
) -> dict[str, object]:
    """Run every applicable check outside pytest; returns check name -> value or the failure.

    The checks are :func:`yield_checks`'s, so the suites' and ``parametrize_with_checks``'s
    (the metrics among them once :mod:`harness.metrics` is imported).  ``checks`` filters by
    name (``fnmatch`` patterns), ``reads`` by kind (``("explanations",)``: the basic checks only).
    """
    cfg = get_model_cfg(model)
    if not explainer.cfg.supports(cfg):
        raise ValueError(f"{explainer.name} does not support {model} (family {cfg.family}, layout {cfg.layout})")
    result = runner.explain(model, explainer)
    out: dict[str, object] = {}
    for spec in yield_checks(cfg, explainer.cfg, reads=reads):
        if not _wanted(spec.name, checks):
            continue
        try:
            out[spec.name] = run_spec(spec, runner, model, explainer, result)
        except CheckFailure as exc:
            out[spec.name] = exc
    return out


__all__ = [
    "BASIC",
    "BASIC_CHECKS",
    "CHECKS",
    "LOCALISATION",
    "MASKED_LABEL_SPACES",
    "READS",
    "CheckFailure",
    "CheckSpec",
    "add_check_source",
    "check_all",
    "check_localisation",
    "has_masks",
    "properties",
    "register_check",
    "run_spec",
    "yield_checks",
]
