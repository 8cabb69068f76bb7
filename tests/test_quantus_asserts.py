"""harness.checks.quantus_asserts raises exactly when, and with what, Quantus's own assertion raises."""

import numpy as np
import pytest
from quantus.helpers import asserts

from harness.checks import quantus_asserts


def _outcome(fn, x, a):
    try:
        fn(x_batch=x, a_batch=a)
    except Exception as exc:  # an IndexError on a shape Quantus does not expect must match too
        return f"{type(exc).__name__}: {exc}"
    return None


def _batches():
    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 8, 8)).astype(np.float32)
    a = rng.random((2, 1, 8, 8)).astype(np.float32)
    nan1 = np.full((2, 1, 8, 8), 0.5, np.float32)
    nan1[0, 0, 0, 0] = np.nan
    nan2 = np.full((2, 1, 8, 8), np.nan, np.float32)
    one_value = np.zeros((1, 1, 1, 1), np.float32) + 0.5
    signed_zero = np.zeros((2, 1, 8, 8), np.float32)
    signed_zero[0, 0, 0, 0] = -0.0
    yield x, a
    yield x, np.zeros_like(a)
    yield x, np.ones_like(a)
    yield x, np.full_like(a, 0.3)  # constant: "uniformly distributed"
    yield x, -a - 0.1  # all negative
    yield x, nan1
    yield x, nan2
    yield x, signed_zero + 0.2
    yield x[:1], one_value
    yield x, a[:1]  # sample count
    yield x, a[:, 0]  # dimensions
    yield x, a.astype(np.float64)
    yield x, (a > 0.5).astype(np.int64)


@pytest.mark.parametrize("k", range(13))
def test_same_condition_same_message(k):
    x, a = list(_batches())[k]
    original = quantus_asserts.original() or asserts.assert_attributions
    assert _outcome(quantus_asserts.assert_attributions, x, a) == _outcome(original, x, a)


def test_install_replaces_quantus_function_once():
    quantus_asserts.install()
    quantus_asserts.install()
    assert asserts.assert_attributions is quantus_asserts.assert_attributions
    assert quantus_asserts.original() is not quantus_asserts.assert_attributions
