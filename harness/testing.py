"""The public test API, in scikit-learn's ``parametrize_with_checks`` shape.

A user's own test file, three lines::

    from harness.testing import parametrize_with_checks

    @parametrize_with_checks(models="project", explainers=["gradcam", "saliency"])
    def test_explanations(case, request, harness): case.run(request, harness)

``models="project"`` takes the models the project declares (``[tool.xai-harness]``
of its ``pyproject.toml``, the ``pytest_harness_register`` hook or an
``xai_harness.plugins`` entry point); a list names registered models (or
gives :class:`~harness.models.ModelCfg` objects, registered here).  Every
applicable check comes from the one generator the suites use
(:func:`harness.checks.yield_checks`, behind :func:`harness.suite.explanation_params`,
:func:`harness.suite.metric_params` and the property suites), after the same
:func:`~harness.suite.supports` test: the basic checks; localisation where the model's
image set has object masks; completeness, conservation, randomisation sanity and the
grid score where the explainer's and the model's tags allow; every metric within its
default budget; and the regression baseline.  The same known-failure table, the same ids
(``gradcam-shapes_resnet-check_target_respected``, ``ig-shapes_resnet-check_completeness``,
``gradcam-shapes_resnet-faithfulness_pixel_flipping``, ``gradcam-shapes_resnet-check_regression``).
``checks`` filters by check name (``fnmatch`` patterns).

Regression baselines live in the project (``baselines`` in
``[tool.xai-harness]``, else ``--harness-baselines``), one folder per image set.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .cases.project import load_project, project_models
from .checks import CheckSpec, yield_checks
from .explainers import get_explainer_cfg, list_explainers
from .models import ModelCfg, add_model, get_model_cfg, is_registered
from .suite import (
    Case,
    case_param,
    explanation_params,
    make_case,
    regression_params,
    run_check,
    run_metric,
    run_property,
    run_regression,
    supported_pairs,
)

REGRESSION = "check_regression"


@dataclass(frozen=True)
class HarnessCheck:
    """One generated case: a model x explainer and a check (``check=None``: the regression baseline)."""

    case: Case
    check: CheckSpec | None = None

    @property
    def name(self) -> str:
        return REGRESSION if self.check is None else self.check.name

    def run(self, request: pytest.FixtureRequest, harness: Any) -> Any:
        """Run the check in the session ``harness`` (the plugin's fixture) and record it for the report."""
        __tracebackhide__ = True
        if self.check is None:
            return run_regression(request, harness, self.case)
        if self.check.reads == "model":
            return run_property(request, harness, self.case, self.check)
        if self.check.reads == "metric":
            return run_metric(request, harness, self.case, self.check.metric)
        return run_check(request, harness, self.case, self.check)

    def __repr__(self) -> str:
        return f"{self.case.id}-{self.name}"


def _model_names(models: str | Iterable[str | ModelCfg], root: Path | None) -> list[str]:
    if isinstance(models, str) and models == "project":
        names = project_models(root or Path.cwd())
        if not names:
            raise ValueError(
                "parametrize_with_checks(models='project'): the project declares no models "
                "([tool.xai-harness.models.NAME] in pyproject.toml, or pytest_harness_register)"
            )
        return names
    out = []
    for m in [models] if isinstance(models, str) else models:
        if isinstance(m, ModelCfg):
            if not is_registered(m.name):
                add_model(m)
            out.append(m.name)
        else:
            out.append(m)
    return out


def _explainer_names(explainers: str | Iterable[str] | None) -> list[str] | None:
    if explainers is None:
        return None
    patterns = [explainers] if isinstance(explainers, str) else list(explainers)
    names = [n for n in list_explainers() if any(fnmatch.fnmatch(n, p) for p in patterns)]
    if missing := [p for p in patterns if not any(fnmatch.fnmatch(n, p) for n in list_explainers())]:
        raise ValueError(f"parametrize_with_checks: no explainer matches {missing}; known: {list_explainers()}")
    return names


def _wanted(check: str, checks: str | Iterable[str] | None) -> bool:
    if checks is None:
        return True
    patterns = [checks] if isinstance(checks, str) else list(checks)
    return any(fnmatch.fnmatch(check, p) for p in patterns)


def check_params(
    models: str | Iterable[str | ModelCfg] = "project",
    explainers: str | Iterable[str] | None = None,
    checks: str | Iterable[str] | None = None,
    *,
    root: str | Path | None = None,
) -> list[Any]:
    """``pytest.param(HarnessCheck)`` for every applicable (model, explainer, check), with the suites' ids."""
    base = Path(root) if root is not None else None
    if base is not None or models == "project":
        load_project(base or Path.cwd())
    names = _model_names(models, base)
    wanted = _explainer_names(explainers)
    out = []
    for p in explanation_params(names, wanted):
        case, check = p.values
        if _wanted(check.name, checks):
            out.append(pytest.param(HarnessCheck(case, check), marks=p.marks, id=p.id))
    if _wanted(REGRESSION, checks):
        for p in regression_params(names, wanted):
            out.append(pytest.param(HarnessCheck(p.values[0]), marks=p.marks, id=p.id))
    for model, name in supported_pairs(names, wanted):
        case = make_case(model, name)
        for spec in yield_checks(get_model_cfg(model), get_explainer_cfg(name), reads=("model", "metric")):
            if _wanted(spec.name, checks):
                p = case_param(case, model=model, explainer=name, check=spec.name)
                out.append(pytest.param(HarnessCheck(case, spec), marks=p.marks, id=p.id))
    return out


def parametrize_with_checks(
    models: str | Iterable[str | ModelCfg] = "project",
    explainers: str | Iterable[str] | None = None,
    checks: str | Iterable[str] | None = None,
    *,
    root: str | Path | None = None,
):
    """Decorator: parametrise a test over every applicable check of ``models`` x ``explainers``.

    The test takes ``case`` (a :class:`HarnessCheck`) and calls
    ``case.run(request, harness)``.  ``explainers`` and ``checks`` are names
    or ``fnmatch`` patterns (``None``: all that apply; regression baselines
    for the explainers tagged ``regression`` unless ``explainers`` names others).
    """
    return pytest.mark.parametrize("case", check_params(models, explainers, checks, root=root))
