"""Case generators and the helpers that run a case: what every suite module uses.

Ids read ``<explainer>-<model>-<check>`` (``gradcam-deit_small-check_shape``),
so ``pytest suites/ -k vit`` and ``-k check_finite`` select as expected.
Every generator goes through :func:`supports` (family, token layout and
traits), :func:`case_param` (id, marks, the known-failure table) and, in
the test, :func:`start_case` / :func:`record_case` (one
:class:`~harness.report.records.CaseRecord` per case).  Marks come from
tags: the model family (``cnn``, ``transformer``, ``hybrid``), ``slow``
for expensive explainers, and ``harness_case`` (model, explainer, check),
by which the plugin deselects the cases of models without weights.
Stochastic explainers are seeded from the case id (``<explainer>-<model>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from ..cases import case_params
from ..checks import CheckSpec, yield_checks
from ..checks.noise import stored_floor
from ..checks.regression import baseline_dir_for, check_regression, tolerances_for
from ..compute.replay import NotApplicable, code_digest, file_digest
from ..compute.runner import CaseResult, Runner
from ..compute.store import library_versions
from ..explainers import ExplainerCfg, create_explainer, get_explainer_cfg, list_explainers
from ..models import ModelCfg, WeightsUnavailable, get_model_cfg, list_models
from ..models.zoo import probe_only
from ..report.records import CaseRecord, Top1Row
from .known import xfail_marks
from .session import Case, HarnessSession

SUITE_SOURCES = ("timm", "package", "zoo")  # toy models are for tests/ only
# user_properties keys: how a case's record, a top-1 row and a model's missing weights reach the reporter
PROP_CASE = "harness_case"
PROP_TOP1 = "harness_top1"
PROP_SKIP = "harness_skip"
PROP_PROGRESS = "harness_progress"
PROP_RSS = "harness_peak_rss_mb"


def suite_models() -> list[str]:
    """Models of the generic suites: all but those a dedicated probe suite owns (``ZooCfg.probe_only``)."""
    return [m for m in list_models(source=SUITE_SOURCES) if not probe_only(get_model_cfg(m))]


def supports(model_cfg: ModelCfg, explainer_cfg: ExplainerCfg) -> bool:
    """Whether a case of this model x explainer exists: family, token layout and required traits.

    The one support test behind every generator (explanations, regression,
    properties, metrics), so they all select the same pairs.
    """
    return explainer_cfg.supports(model_cfg)


def supported_pairs(
    models: Iterable[str] | None = None, explainers: Iterable[str] | None = None
) -> Iterator[tuple[str, str]]:
    """``(model, explainer)`` for every supported pair, models outer, in order."""
    names = list(explainers) if explainers is not None else list_explainers()
    for model in models if models is not None else suite_models():
        mcfg = get_model_cfg(model)
        for name in names:
            if supports(mcfg, get_explainer_cfg(name)):
                yield model, name


def model_marks(model: str) -> list[pytest.MarkDecorator]:
    return [getattr(pytest.mark, get_model_cfg(model).family)]


def case_marks(model: str, explainer: str) -> list[pytest.MarkDecorator]:
    marks = model_marks(model)
    if get_explainer_cfg(explainer).cost == "expensive":
        marks.append(pytest.mark.slow)
    return marks


def case_param(
    *values: object,
    model: str,
    explainer: str,
    check: str,
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    needs_weights: bool = True,
    id: str | None = None,
) -> pytest.ParameterSet:
    """``pytest.param(*values)`` with the case's id and marks, and its xfail when the table lists it.

    ``model`` is a registry name (family marks and weights); cases that
    span models (a label space, ``synthetic``) pass one that is not
    registered and get no family mark.  ``needs_weights=False`` for cases
    that run on declared-random weights (structure checks), which are never
    deselected.
    """
    try:
        marks = case_marks(model, explainer) if explainer in list_explainers() else model_marks(model)
    except KeyError:  # a label space or a synthetic control: no family
        marks = []
    marks.append(pytest.mark.harness_case(model=model, explainer=explainer, check=check, needs_weights=needs_weights))
    marks.append(pytest.mark.xdist_group(model))  # pytest-xdist loadgroup: one worker per model, loaded once
    marks += xfail_marks(explainer, model, check, raises=raises)
    return pytest.param(*values, marks=marks, id=id or f"{explainer}-{model}-{check}")


def make_case(model: str, explainer: str) -> Case:
    """A case with its default parameters; stochastic explainers get a seed from the case id."""
    return Case(model, explainer, case_params(model, explainer))


def explanation_params(models: Iterable[str] | None = None, explainers: Iterable[str] | None = None):
    """``pytest.param(case, check)`` for every supported model x explainer x applicable explanation check
    (the :class:`~harness.checks.CheckSpec` s of :func:`~harness.checks.yield_checks` that read the maps)."""
    out = []
    for model, name in supported_pairs(models, explainers):
        for check in yield_checks(get_model_cfg(model), get_explainer_cfg(name), reads=("explanations",)):
            out.append(case_param(make_case(model, name), check, model=model, explainer=name, check=check.name))
    return out


def regression_params(models: Iterable[str] | None = None, explainers: Iterable[str] | None = None):
    """``pytest.param(case)`` with id ``<explainer>-<model>-check_regression``.

    Only explainers tagged ``regression`` (those with committed baselines)
    are gated unless ``explainers`` names others explicitly."""
    names = explainers or [n for n in list_explainers() if get_explainer_cfg(n).regression]
    return [
        case_param(make_case(model, name), model=model, explainer=name, check="check_regression")
        for model, name in supported_pairs(models, names)
    ]


def record_case(request: pytest.FixtureRequest, record: CaseRecord) -> CaseRecord:
    """Attach ``record`` to the running test; fill it in afterwards, the plugin reads it at the end."""
    request.node.user_properties.append((PROP_CASE, record))
    return record


def skip_without_weights(request: pytest.FixtureRequest, harness: HarnessSession, model: str) -> None:
    """Skip the test, with the one-line remedy, when ``model`` has no weights here."""
    __tracebackhide__ = True
    try:
        harness.require_weights(model)
    except WeightsUnavailable as exc:
        request.node.user_properties.append((PROP_SKIP, (model, str(exc))))
        pytest.skip(str(exc))


def start_case(
    request: pytest.FixtureRequest, harness: HarnessSession, case: Case, check: str
) -> tuple[CaseRecord, CaseResult]:
    """Skip without weights, register the case's record, and compute (or fetch) its explanations."""
    __tracebackhide__ = True
    skip_without_weights(request, harness, case.model)
    record = record_case(
        request, CaseRecord(id=request.node.callspec.id, model=case.model, explainer=case.explainer, check=check)
    )
    result = harness.result(case)
    record.model_label = result.model_label
    record.computed, record.cached = result.computed, result.cached
    record.native_resolution = list(result.native_resolution)
    return record, result


def _shown(value: object) -> object:
    return value if isinstance(value, (int, float, dict, list)) else str(value)


def replay_case(
    request: pytest.FixtureRequest, harness: HarnessSession, check: str, inputs: dict[str, Any], body: Callable[[], Any]
) -> bool:
    """Run ``body`` (which records the case through :func:`record_case` and may fail), or replay it.

    ``inputs`` names everything the check reads that is not code: store keys of the explanations,
    weights hashes (:meth:`Runner.model_fields`), image digests, and the check's parameters.  With the
    case id, a digest of ``harness/`` and of the test's module and the library versions it keys a
    ``check`` store entry (:mod:`harness.compute.replay`) holding the outcome and the records; a rerun with
    the same key appends the stored records and passes, or raises the stored failure again (so an
    xfail stays an xfail), without loading a model or computing anything.  A check that raises
    :class:`~harness.compute.replay.NotApplicable` is a skip, stored and replayed the same way.  Returns
    whether it replayed.
    """
    __tracebackhide__ = True
    props = request.node.user_properties
    start = len(props)
    cache = harness.runner.checks
    fields = cache.fields(request.node.nodeid, check, inputs, code_digest(request.node.path))

    def payload() -> list:
        return [[k, v.to_dict()] for k, v in props[start:] if k == PROP_CASE and isinstance(v, CaseRecord)]

    def restore(stored: list) -> None:
        for _, doc in stored:
            record = CaseRecord.from_dict(doc)
            record.replayed = True
            if record.computed or record.cached:  # nothing is computed on a replay: all of it is stored
                record.computed, record.cached = 0, (record.computed or 0) + (record.cached or 0)
            props.append((PROP_CASE, record))

    try:
        return cache.run(fields, body, payload, restore)
    except NotApplicable as exc:
        pytest.skip(str(exc))


def mask_digests(records) -> list[str | None]:
    """Digests of the records' object masks (None where an image has none): a localisation check's input."""
    return [file_digest(str(r.mask)) if r.mask is not None else None for r in records]


def case_inputs(runner: Runner, case: Case, limit: int | None) -> dict[str, Any]:
    """What a check of ``case`` reads: its top-1 explanations' store keys and its images' masks.

    Target probes and predictions are functions of the same model fields and images, so they need
    no key of their own."""
    explainer = create_explainer(case.explainer, **dict(case.params))
    records = runner.images_for(case.model).records[:limit]
    return {
        "explanations": runner.explanation_keys(case.model, explainer, limit),
        "masks": mask_digests(records),
    }


def model_inputs(runner: Runner, model: str, n_images: int | None, **params: Any) -> dict[str, Any]:
    """A structural check's inputs: the model's store identity (weights hash, preprocessing, versions),
    the digests of the first ``n_images`` images of its set, and the check's ``params``."""
    records = runner.images_for(model).records[:n_images]
    return {
        "model": runner.model_fields(model),
        "images": [runner.digest(r) for r in records],
        "params": params,
    }


def study_inputs(runner: Runner, models: Iterable[str], **params: Any) -> dict[str, Any]:
    """A study check's inputs (concepts, the bias probe): the store identities of the ``models`` it reads
    and its ``params``; its images are drawn by code from fixed seeds, so the code digest covers them."""
    return {"models": [runner.model_fields(m) for m in models], "params": params}


def run_check(request: pytest.FixtureRequest, harness: HarnessSession, case: Case, check) -> None:
    """Compute (or fetch) the case, run ``check`` (a :class:`~harness.checks.CheckSpec` reading the
    explanations, or a plain ``check_*(result, runner)``) and record its value (replayed when stored)."""
    __tracebackhide__ = True
    skip_without_weights(request, harness, case.model)
    limit = harness.image_limit(create_explainer(case.explainer, **dict(case.params)))
    name = check.name if isinstance(check, CheckSpec) else check.__name__

    def body() -> None:
        __tracebackhide__ = True
        record, result = start_case(request, harness, case, name)
        record.value = _shown(check(result, harness.runner))

    inputs = case_inputs(harness.runner, case, limit)
    if isinstance(check, CheckSpec) and check.inputs is not None:
        inputs["check"] = check.inputs(harness.runner, case.model)
    replay_case(request, harness, name, inputs, body)


def run_regression(request: pytest.FixtureRequest, harness: HarnessSession, case: Case) -> None:
    """Compare the case with its baseline (or write it: see :mod:`harness.checks.regression`); replayed when
    the explanations and the baseline file are the ones stored (never under ``--harness-regen``).  A baseline
    written here records the pair's noise floor (:func:`harness.checks.noise.stored_floor`, kept in the store)."""
    __tracebackhide__ = True
    skip_without_weights(request, harness, case.model)
    root = harness.options.baselines or harness.rootdir / "suites" / "baselines"
    folder = baseline_dir_for(root, harness.runner.images_for(case.model).name)
    tol = tolerances_for(get_explainer_cfg(case.explainer))

    def body() -> None:
        __tracebackhide__ = True
        record, result = start_case(request, harness, case, "check_regression")
        record.value = check_regression(
            result,
            case.id,
            folder,
            tol=tol,
            regen=harness.options.regen,
            accept=harness.options.regen_accept,
            versions=library_versions(),
            noise=lambda: stored_floor(
                harness.runner, case.model, case.explainer, params=dict(case.params)
            ).baseline_record(),
        )

    if harness.options.regen or harness.options.regen_accept:
        body()
        return
    baseline = folder / f"{case.id}.json"
    inputs = {
        **case_inputs(harness.runner, case, harness.image_limit(create_explainer(case.explainer, **dict(case.params)))),
        "baseline": file_digest(str(baseline)) if baseline.is_file() else None,
        "tolerances": str(tol),
    }
    replay_case(request, harness, "check_regression", inputs, body)


def run_top1(request: pytest.FixtureRequest, harness: HarnessSession, model: str) -> Top1Row:
    __tracebackhide__ = True
    skip_without_weights(request, harness, model)
    row = harness.top1_for(model)
    request.node.user_properties.append((PROP_TOP1, (model, row)))
    return row
