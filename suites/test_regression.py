"""Explainer behaviour against committed numeric baselines (suites/baselines/).

A missing baseline is written and the case fails; ``--harness-regen``
rewrites baselines on purpose.  Tolerances: harness/checks/regression.py.
"""

import pytest

from harness.suite import regression_params, run_regression


@pytest.mark.parametrize("case", regression_params())
def test_regression(request, harness, case):
    run_regression(request, harness, case)
