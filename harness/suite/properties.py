"""Suite helpers for the property checks: which pairs get one, and running one as a case.

The property suites (``suites/test_properties_*.py``) and ``parametrize_with_checks``
both ask :func:`check_applies`, that is the one generator
(:func:`harness.checks.yield_checks`), which pairs a property check covers; the
suites then keep their own budgets (which models, which variants).  :func:`run_property`
runs one ``reads="model"`` check of a case as a test: skipped without weights, replayed
from the store when its inputs are the stored ones, recorded for the report.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..checks import CheckSpec, yield_checks
from ..core.seeds import seed_for
from ..explainers import get_explainer_cfg, list_explainers
from ..models import get_model_cfg
from ..report.records import CaseRecord
from .cases import model_inputs, record_case, replay_case, skip_without_weights
from .session import Case, HarnessSession


def check_applies(check: str, model: str, explainer: str, *, masks: bool | None = None) -> bool:
    """Whether the one generator yields ``check`` for ``model`` x ``explainer`` (False for an unknown explainer)."""
    if explainer not in list_explainers():
        return False
    specs = yield_checks(get_model_cfg(model), get_explainer_cfg(explainer), masks=masks)
    return any(spec.name == check for spec in specs)


def record_property(request: pytest.FixtureRequest, case: Case, check: str):
    """A ``record(model_label, value)`` for the property functions: one case record on the running test."""

    def record(label: str, value: dict[str, Any]) -> None:
        record_case(
            request,
            CaseRecord(
                id=request.node.callspec.id,
                model=case.model,
                explainer=case.explainer,
                check=check,
                value=value,
                model_label=label,
            ),
        )

    return record


def run_property(request: pytest.FixtureRequest, harness: HarnessSession, case: Case, spec: CheckSpec) -> None:
    """Run a property check of ``case`` (its model, its explainer with the case's parameters); replayed when stored.

    The seed of stochastic parts (randomisation) comes from the case id, as in the suites.
    """
    __tracebackhide__ = True
    skip_without_weights(request, harness, case.model)
    seed = seed_for(request.node.callspec.id)

    def body() -> None:
        __tracebackhide__ = True
        spec.run(
            harness.runner,
            case.model,
            case.explainer,
            params=case.params,
            seed=seed,
            record=record_property(request, case, spec.name),
        )

    inputs = model_inputs(harness.runner, case.model, spec.n_images, explainer=dict(case.params), seed=seed)
    replay_case(request, harness, spec.name, inputs, body)
