"""The suite layer: case generators, the known-failure table and the helpers every suite module uses.

Suite modules (``suites/``, and a user's own test files) import from here;
the library (models, explainers, images, checks, metrics, compare, zoo,
report, store, runner) never does.  The pytest plugin (:mod:`harness.plugin`)
wires this layer into pytest: options, the session fixture, collection and
the report.
"""

from ..core.seeds import seed_for
from ..report.records import CaseRecord
from .cases import (
    PROP_CASE,
    PROP_SKIP,
    PROP_TOP1,
    SUITE_SOURCES,
    case_inputs,
    case_marks,
    case_param,
    explanation_params,
    make_case,
    model_inputs,
    model_marks,
    record_case,
    regression_params,
    replay_case,
    run_check,
    run_regression,
    run_top1,
    skip_without_weights,
    start_case,
    study_inputs,
    suite_models,
    supported_pairs,
    supports,
)
from .known import KNOWN_FAILURES, KnownFailure, known_failure, xfail_marks
from .metrics import metric_explainers, metric_params, run_metric, score_case
from .properties import check_applies, record_property, run_property
from .session import SESSION_KEY, Case, HarnessOptions, HarnessSession, session_of

__all__ = [
    "KNOWN_FAILURES",
    "PROP_CASE",
    "PROP_SKIP",
    "PROP_TOP1",
    "SESSION_KEY",
    "SUITE_SOURCES",
    "Case",
    "CaseRecord",
    "HarnessOptions",
    "HarnessSession",
    "KnownFailure",
    "case_marks",
    "check_applies",
    "case_inputs",
    "case_param",
    "explanation_params",
    "known_failure",
    "make_case",
    "metric_explainers",
    "metric_params",
    "model_inputs",
    "study_inputs",
    "model_marks",
    "record_case",
    "record_property",
    "regression_params",
    "replay_case",
    "run_check",
    "run_metric",
    "run_property",
    "run_regression",
    "run_top1",
    "score_case",
    "seed_for",
    "session_of",
    "skip_without_weights",
    "start_case",
    "suite_models",
    "supported_pairs",
    "supports",
    "xfail_marks",
]
