"""Quantus-backed metrics, batched where Quantus spends its time in model calls.

``evaluate_metric`` scores a case and its random-attribution control and
stores the result; ``harness.report.metric_results`` reads them back for the leaderboard.
"""

from . import checks, faithfulness, mprt, plain, road  # noqa: F401  (register the metrics, and them as checks)
from .inputs import MetricInputs
from .registry import CATEGORIES, MetricCfg, get_metric, get_metric_cfg, list_metrics, register_metric, yield_metrics

__all__ = [
    "CATEGORIES",
    "MetricCfg",
    "MetricInputs",
    "get_metric",
    "get_metric_cfg",
    "list_metrics",
    "register_metric",
    "yield_metrics",
]
