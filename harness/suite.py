"""Helpers for suite modules: parametrised (case, check) pairs and running them.

Ids read ``<explainer>-<model>-<check>`` (``gradcam-deit_small-check_shape``),
so ``pytest suites/ -k vit`` and ``-k check_finite`` select as expected;
stochastic explainers are seeded from the case id (``<explainer>-<model>``);
marks come from tags: the model family (``cnn``, ``transformer``,
``hybrid``) and ``slow`` for expensive explainers.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from .checks import known_failure, yield_checks
from .explainers import get_explainer_cfg, list_explainers
from .models import WeightsUnavailable, get_model_cfg, list_models
from .plugin import PROP_CASE, PROP_SKIP, PROP_TOP1
from .regression import check_regression, seed_for, tolerances_for
from .session import Case, HarnessSession
from .store import library_versions

SUITE_SOURCES = ("timm", "package", "zoo")  # toy models are for tests/ only


def suite_models() -> list[str]:
    return list_models(source=SUITE_SOURCES)


def model_marks(model: str) -> list[pytest.MarkDecorator]:
    return [getattr(pytest.mark, get_model_cfg(model).family)]


def make_case(model: str, explainer: str) -> Case:
    """A case with its default parameters; stochastic explainers get a seed from the case id."""
    params = (("seed", seed_for(f"{explainer}-{model}")),) if get_explainer_cfg(explainer).stochastic else ()
    return Case(model, explainer, params)


def case_marks(model: str, explainer: str) -> list[pytest.MarkDecorator]:
    marks = model_marks(model)
    if get_explainer_cfg(explainer).cost == "expensive":
        marks.append(pytest.mark.slow)
    return marks


def explanation_params(models: Iterable[str] | None = None, explainers: Iterable[str] | None = None):
    """``pytest.param(case, check)`` for every applicable model x explainer x check."""
    out = []
    for model in models or suite_models():
        mcfg = get_model_cfg(model)
        for name in explainers or list_explainers():
            ecfg = get_explainer_cfg(name)
            for check in yield_checks(mcfg, ecfg):
                marks = case_marks(model, name)
                reason = known_failure(name, model, check.__name__)
                if reason:
                    marks.append(pytest.mark.xfail(reason=reason, strict=True))
                out.append(
                    pytest.param(make_case(model, name), check, marks=marks, id=f"{name}-{model}-{check.__name__}")
                )
    return out


def regression_params(models: Iterable[str] | None = None, explainers: Iterable[str] | None = None):
    """``pytest.param(case)`` with id ``<explainer>-<model>-check_regression``.

    Only explainers tagged ``regression`` (those with committed baselines)
    are gated unless ``explainers`` names others explicitly."""
    out = []
    for model in models or suite_models():
        mcfg = get_model_cfg(model)
        names = explainers or [n for n in list_explainers() if get_explainer_cfg(n).regression]
        for name in names:
            if not get_explainer_cfg(name).supports(mcfg):
                continue
            out.append(
                pytest.param(
                    make_case(model, name), marks=case_marks(model, name), id=f"{name}-{model}-check_regression"
                )
            )
    return out


def _skip_without_weights(request: pytest.FixtureRequest, harness: HarnessSession, model: str) -> None:
    __tracebackhide__ = True
    try:
        harness.require_weights(model)
    except WeightsUnavailable as exc:
        request.node.user_properties.append((PROP_SKIP, (model, str(exc))))
        pytest.skip(str(exc))


def _start_case(request: pytest.FixtureRequest, harness: HarnessSession, case: Case, check: str):
    """Skip without weights, register the report entry, and compute (or fetch) the case."""
    __tracebackhide__ = True
    _skip_without_weights(request, harness, case.model)
    info = {"id": request.node.callspec.id, "model": case.model, "explainer": case.explainer, "check": check}
    request.node.user_properties.append((PROP_CASE, info))  # filled in below; read when the report is made
    result = harness.result(case)
    info.update(
        model_label=result.model_label,
        computed=result.computed,
        cached=result.cached,
        native_resolution=list(result.native_resolution),
    )
    return info, result


def run_check(request: pytest.FixtureRequest, harness: HarnessSession, case: Case, check) -> object:
    """Compute (or fetch) the case, run ``check`` and record its value for the report."""
    __tracebackhide__ = True
    info, result = _start_case(request, harness, case, check.__name__)
    value = check(result, harness.runner)
    info["value"] = value if isinstance(value, (int, float)) else str(value)
    return value


def run_regression(request: pytest.FixtureRequest, harness: HarnessSession, case: Case) -> dict:
    """Compare the case with its baseline (or write it: see :mod:`harness.regression`)."""
    __tracebackhide__ = True
    info, result = _start_case(request, harness, case, "check_regression")
    out = check_regression(
        result,
        case.id,
        harness.options.baselines,
        tol=tolerances_for(get_explainer_cfg(case.explainer)),
        regen=harness.options.regen,
        versions=library_versions(),
    )
    info["value"] = str(out)
    return out


def run_top1(request: pytest.FixtureRequest, harness: HarnessSession, model: str) -> dict:
    __tracebackhide__ = True
    _skip_without_weights(request, harness, model)
    row = harness.top1_for(model)
    request.node.user_properties.append((PROP_TOP1, (model, row)))
    return row
