"""Cohen's kappa on binarised and levelled maps, checked against scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

from harness.compare import binarize, cohens_kappa, levels, ordinal_kappa


def _correlated(seed: int, n: int = 6, h: int = 9, w: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Two models' maps that agree partly, so kappa is neither 0 nor 1."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, h, w))
    return a, a + rng.normal(scale=rng.uniform(0.3, 2.0), size=a.shape)


def _sklearn_rows(xa: np.ndarray, xb: np.ndarray, **kwargs) -> np.ndarray:
    return np.array([cohen_kappa_score(ra, rb, **kwargs) for ra, rb in zip(xa, xb)])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("cut", [{"threshold": 0.0}, {"threshold": 1.2}, {"top_k": 0.1}, {"top_k": 0.37}])
def test_cohens_kappa_matches_sklearn(seed, cut):
    a, b = _correlated(seed)
    expected = _sklearn_rows(binarize(a, **cut), binarize(b, **cut))
    np.testing.assert_allclose(cohens_kappa(a, b, **cut), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weights", ["linear", "quadratic", None])
@pytest.mark.parametrize("cut", [{"thresholds": (-0.5, 0.3, 1.0)}, {"top_ks": (0.05, 0.2, 0.5)}])
def test_ordinal_kappa_matches_sklearn_weighted(seed, weights, cut):
    a, b = _correlated(seed)
    la, lb = levels(a, **cut), levels(b, **cut)
    expected = _sklearn_rows(la, lb, labels=list(range(4)), weights=weights)
    np.testing.assert_allclose(ordinal_kappa(a, b, weights=weights, **cut), expected, rtol=0, atol=1e-12)


def test_ordinal_kappa_with_one_cut_is_plain_kappa():
    a, b = _correlated(7)
    np.testing.assert_allclose(
        ordinal_kappa(a, b, top_ks=(0.2,), weights=None), cohens_kappa(a, b, top_k=0.2), rtol=0, atol=1e-15
    )


def test_ordinal_weights_forgive_near_misses():
    a = np.arange(100.0).reshape(1, 10, 10)
    b = a.copy()
    b[0, 9, :2] = b[0, 8, :2]  # pixels 98 and 99 drop from the top level into the next one down
    cut = {"thresholds": (50.0, 80.0, 95.0)}
    assert ordinal_kappa(a, b, weights="linear", **cut)[0] > ordinal_kappa(a, b, weights=None, **cut)[0]


def test_top_k_selects_k_pixels_and_keeps_ties():
    x = np.random.default_rng(0).random((3, 10, 10))
    np.testing.assert_array_equal(binarize(x, top_k=0.1).sum(axis=1), [10, 10, 10])
    np.testing.assert_array_equal(binarize(x, top_k=0.001).sum(axis=1), [1, 1, 1])  # at least one pixel
    ties = np.array([[[1.0, 1.0], [1.0, 0.0]]])
    np.testing.assert_array_equal(binarize(ties, top_k=0.25), [[True, True, True, False]])
    np.testing.assert_array_equal(binarize(np.zeros((1, 2, 2)), top_k=0.5), [[True] * 4])
    np.testing.assert_array_equal(binarize(ties, threshold=1.0), [[False] * 4])  # strictly greater


def test_levels_count_passed_cuts():
    x = np.array([[[0.1, 0.9], [0.5, 0.3]]])
    np.testing.assert_array_equal(levels(x, thresholds=(0.6, 0.2)), [[0, 2, 1, 1]])  # order of cuts is irrelevant
    np.testing.assert_array_equal(levels(x, top_ks=(0.25, 0.5)), [[0, 2, 1, 0]])


def test_identical_and_disjoint_masks():
    a = np.random.default_rng(1).random((4, 8, 8))
    np.testing.assert_allclose(cohens_kappa(a, a, top_k=0.1), 1.0, atol=1e-15)
    flat = np.arange(16.0).reshape(1, 4, 4)
    assert cohens_kappa(flat, -flat, top_k=0.5)[0] == pytest.approx(-1.0, abs=1e-15)


def test_constant_maps_have_documented_kappa():
    zero, one = np.zeros((1, 5, 5)), np.ones((1, 5, 5))
    other = np.random.default_rng(2).random((1, 5, 5))
    # Both masks constant and identical: sklearn gives NaN, we give 1.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        mask = binarize(zero, top_k=0.1)[0]
        assert np.isnan(cohen_kappa_score(mask, mask, labels=[False, True]))
    assert cohens_kappa(zero, zero, top_k=0.1)[0] == 1.0
    assert cohens_kappa(zero, one, threshold=0.5)[0] == 0.0  # all-unimportant vs all-important
    assert cohens_kappa(zero, other, top_k=0.1)[0] == 0.0  # constant vs informative mask
    assert ordinal_kappa(zero, one, top_ks=(0.1, 0.5))[0] == 1.0  # both all at the top level
    assert ordinal_kappa(zero, other, thresholds=(0.2, 0.4))[0] == 0.0


def test_bad_arguments_raise():
    a = np.zeros((1, 2, 2))
    with pytest.raises(ValueError, match="exactly one"):
        cohens_kappa(a, a, threshold=0.1, top_k=0.1)
    with pytest.raises(ValueError, match="exactly one"):
        cohens_kappa(a, a)
    with pytest.raises(ValueError, match="top_k"):
        binarize(a, top_k=0.0)
    with pytest.raises(ValueError, match="distinct"):
        levels(a, thresholds=(0.1, 0.1))
    with pytest.raises(ValueError, match="weights"):
        ordinal_kappa(a, a, thresholds=(0.1,), weights="cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        cohens_kappa(a, np.zeros((1, 2, 3)), top_k=0.5)


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    a, b = _correlated(3)
    got = cohens_kappa(torch.from_numpy(a), torch.from_numpy(b).float(), threshold=0.5)
    np.testing.assert_allclose(got, cohens_kappa(a, b.astype(np.float32), threshold=0.5), atol=1e-15)


_maps = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)),
    elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)


@given(a=_maps, data=st.data(), top_k=st.floats(0.01, 1.0))
def test_kappa_is_finite_and_agrees_with_sklearn_where_defined(a, data, top_k):
    b = data.draw(hnp.arrays(np.float64, a.shape, elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0])))
    got = cohens_kappa(a, b, top_k=top_k)
    assert np.all(np.isfinite(got)) and np.all(np.abs(got) <= 1.0 + 1e-12)
    ma, mb = binarize(a, top_k=top_k), binarize(b, top_k=top_k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        expected = _sklearn_rows(ma, mb, labels=[False, True])
    defined = np.isfinite(expected)
    np.testing.assert_allclose(got[defined], expected[defined], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got[~defined], 1.0)  # undefined only when both masks are constant and equal
