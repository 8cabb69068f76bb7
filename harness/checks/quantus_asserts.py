"""Quantus's attribution assertion, with its one slow line done in NumPy: same conditions, same messages.

Every Quantus metric call starts with
``quantus.helpers.asserts.assert_attributions(x_batch, a_batch)``, which
ends with ``len(set(a_batch.flatten().tolist())) > 1``: a Python set of
every attribution value.  For 8 maps at 224 px that is about 0.5 s per call,
and the localisation check makes six calls per case (three metrics, its
maps and the random control), so in the cold main job it cost more than the
metrics it guards (measured: 93 of 741 s of one zoo model's cases, 2026-12-01).

:func:`install` replaces the function by :func:`assert_attributions`, which
raises the same :class:`AssertionError` with the same message under exactly
the same conditions (``tests/test_quantus_asserts.py`` compares the two on
NaN, all-zero, all-one, constant, negative and ordinary batches): the set of
floats has more than one element exactly when the batch holds two distinct
non-NaN values, or a NaN and anything else (every NaN from ``tolist()`` is its
own object, unequal to all others).  Idempotent; Quantus is imported here
only when installing.

PYTEST_DONT_REWRITE: the messages must stay Quantus's own, so pytest's assertion
rewriting (which the plugin's package gets) must not touch this module.
"""

from __future__ import annotations

from importlib.metadata import version

import numpy as np

_ORIGINAL = None


def _distinct_more_than_one(a: np.ndarray) -> bool:
    """``len(set(a.flatten().tolist())) > 1`` without building the set."""
    flat = np.asarray(a).ravel()
    if flat.size < 2:
        return False
    if flat.dtype.kind not in "fc":
        return bool(np.any(flat != flat[0]))
    nan = np.isnan(flat)
    n_nan = int(nan.sum())
    if n_nan:
        return n_nan > 1 or n_nan < flat.size  # two NaNs, or a NaN and a number
    return bool(np.any(flat != flat[0]))


def assert_attributions(x_batch: np.ndarray, a_batch: np.ndarray) -> None:
    """``quantus.helpers.asserts.assert_attributions`` (Quantus 0.6), the set-of-floats line in NumPy."""
    assert type(a_batch) == np.ndarray, "Attributions 'a_batch' should be of type np.ndarray."  # noqa: E721
    assert np.shape(x_batch)[0] == np.shape(a_batch)[0], (
        "The inputs 'x_batch' and attributions 'a_batch' should include the same number of samples."
        f"{np.shape(x_batch)[0]} != {np.shape(a_batch)[0]}"
    )
    assert np.ndim(x_batch) == np.ndim(a_batch), (
        "The inputs 'x_batch' and attributions 'a_batch' should have the same number of dimensions."
        f"{np.ndim(x_batch)} != {np.ndim(a_batch)}"
    )
    a_shape = [s for s in np.shape(a_batch)[1:] if s != 1]
    x_shape = [s for s in np.shape(x_batch)[1:]]
    assert a_shape[0] == x_shape[0] or a_shape[-1] == x_shape[-1], (
        "The dimensions of attribution and input per sample should correspond in either "
        "the first or last dimensions, but got shapes "
        f"{a_shape} and {x_shape}"
    )
    assert all([a in x_shape for a in a_shape]), (
        f"All attribution dimensions should be included in the input dimensions, but got shapes {a_shape} and {x_shape}"
    )
    assert all([x_shape.index(a) > x_shape.index(a_shape[i]) for a in a_shape for i in range(a_shape.index(a))]), (
        "The dimensions of the attribution must correspond to dimensions of the input in the same order, "
        f"but got shapes {a_shape} and {x_shape}"
    )
    assert not np.all(a_batch == 0), (
        "The elements in the attribution vector are all equal to zero, "
        "which may cause inconsistent results since many metrics rely on ordering. "
        "Recompute the explanations."
    )
    assert not np.all(a_batch == 1.0), (
        "The elements in the attribution vector are all equal to one, "
        "which may cause inconsistent results since many metrics rely on ordering. "
        "Recompute the explanations."
    )
    assert _distinct_more_than_one(a_batch), (
        "The attributions are uniformly distributed, "
        "which may cause inconsistent results since many "
        "metrics rely on ordering."
        "Recompute the explanations."
    )
    assert not np.all(a_batch < 0.0), "Attributions should not all be less than zero."


def install() -> None:
    """Put :func:`assert_attributions` in Quantus's place (once); a Quantus other than 0.6.x is left alone."""
    global _ORIGINAL
    if _ORIGINAL is not None:
        return

    from quantus.helpers import asserts  # lazy: quantus takes ~5 s to import

    if not version("quantus").startswith("0.6."):
        return
    _ORIGINAL = asserts.assert_attributions
    asserts.assert_attributions = assert_attributions


def original():
    """Quantus's own function (for the equivalence test), or None before :func:`install`."""
    return _ORIGINAL
