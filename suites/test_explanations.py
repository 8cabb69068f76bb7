"""Output contract of every model x explainer case on the session's image set.

Checks: shape, finite values, not constant, target respected.  Models
without weights are skipped with the reason and how to supply them.
"""

import pytest

from harness.suite import explanation_params, run_check


@pytest.mark.parametrize(("case", "check"), explanation_params())
def test_explanation(request, harness, case, check):
    run_check(request, harness, case, check)
