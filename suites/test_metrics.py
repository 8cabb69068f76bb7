"""Quantus metrics per model x explainer, each next to a random-attribution control.

Ids read ``<explainer>-<model>-<category>_<metric>``: ``-k faithfulness``,
``-k randomisation``, ``-k localisation``, ``-k complexity`` select a
category.  Defaults are small (``--harness-metric-images 4``, few steps);
raise them with ``--harness-metric-images N`` and
``--harness-metric-param pixel_flipping.steps=48``.  Explainers: those tagged
``regression=True`` by default; ``--harness-metric-explainers all`` (or
``gradcam,lime``) widens the set.  MPRT (``-k randomisation_mprt``) runs on
the trained zoo with cheap and moderate explainers by default;
``--harness-metric-optin mprt`` adds IG, KernelSHAP and the other models.
Gating: harness/suite/metrics.py.
"""

import pytest

from harness.suite import metric_explainers, metric_params, run_metric, session_of


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"case", "metric"} <= set(metafunc.fixturenames):
        options = session_of(metafunc.config).options
        explainers = metric_explainers(options.metric_explainers)
        metafunc.parametrize(("case", "metric"), metric_params(explainers=explainers, opt_in=options.metric_optin))


def test_metric(request, harness, case, metric):
    run_metric(request, harness, case, metric)
