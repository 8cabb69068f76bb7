"""Quantus metrics per model x explainer, each next to a random-attribution control.

Ids read ``<explainer>-<model>-<category>_<metric>``: ``-k faithfulness``,
``-k randomisation``, ``-k localisation``, ``-k complexity`` select a
category.  Defaults are small (``--harness-metric-images 4``, few steps);
raise them with ``--harness-metric-images N`` and
``--harness-metric-param pixel_flipping.steps=48``.  Gating: harness/metrics/cases.py.
"""

import pytest

from harness.metrics.cases import metric_params, run_metric


@pytest.mark.parametrize(("case", "metric"), metric_params())
def test_metric(request, harness, case, metric):
    run_metric(request, harness, case, metric)
