"""Per-image similarities, dissimilarity and the model-by-model matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.compare import (
    as_maps,
    cosine_similarity,
    dissimilarity,
    normalize_maps,
    rbf_similarity,
    similarity_matrix,
)

NORMALIZE = ["unit", "max", "minmax", None]


def _maps(seed: int, n: int = 5, h: int = 6, w: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, h, w))


@pytest.mark.parametrize("normalize", NORMALIZE)
def test_identical_maps_have_similarity_one_and_dissimilarity_zero(normalize):
    a = _maps(0)
    cos = cosine_similarity(a, a.copy(), normalize=normalize)
    rbf = rbf_similarity(a, a.copy(), sigma=0.3, normalize=normalize)
    np.testing.assert_allclose(cos, 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rbf, 1.0, rtol=0, atol=1e-12)
    assert dissimilarity(cos) == pytest.approx(0.0, abs=1e-12)
    assert dissimilarity(rbf) == pytest.approx(0.0, abs=1e-12)


def test_orthogonal_maps_have_cosine_zero_and_opposite_maps_minus_one():
    a = np.zeros((2, 4, 4))
    b = np.zeros((2, 4, 4))
    a[:, :2] = np.arange(1.0, 9.0).reshape(2, 4)  # top half only
    b[:, 2:] = 3.0  # bottom half only
    np.testing.assert_allclose(cosine_similarity(a, b), [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(cosine_similarity(a, -a), [-1.0, -1.0], atol=1e-12)


def test_cosine_matches_formula_and_ignores_positive_scale():
    a, b = _maps(1), _maps(2)
    x, y = a.reshape(5, -1), b.reshape(5, -1)
    expected = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    np.testing.assert_allclose(cosine_similarity(a, b), expected, rtol=1e-12)
    np.testing.assert_allclose(cosine_similarity(1e-200 * a, 1e200 * b, normalize="max"), expected, rtol=1e-12)
    assert not np.allclose(cosine_similarity(a, b, normalize="minmax"), expected, atol=1e-3)


def test_rbf_hand_computed_values():
    a = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    b = np.array([[[0.0, 0.0], [0.0, 2.0]]])
    # Raw: ||a - b||^2 = 1 + 4 = 5, sigma 2 -> exp(-5 / 8).
    assert rbf_similarity(a, b, 2.0, normalize=None)[0] == pytest.approx(math.exp(-5 / 8), rel=1e-12)
    # Unit-normalised: two orthogonal unit vectors, ||a - b||^2 = 2 -> exp(-2 / 8).
    assert rbf_similarity(a, b, 2.0)[0] == pytest.approx(math.exp(-1 / 4), rel=1e-12)
    # Max-normalised: b becomes [0, 0, 0, 1], the same distance as unit here.
    assert rbf_similarity(a, b, 2.0, normalize="max")[0] == pytest.approx(math.exp(-1 / 4), rel=1e-12)


def test_rbf_on_unit_maps_is_a_function_of_cosine():
    a, b = _maps(3), _maps(4)
    sigma = 0.7
    expected = np.exp(-(1.0 - cosine_similarity(a, b)) / sigma**2)
    np.testing.assert_allclose(rbf_similarity(a, b, sigma), expected, rtol=1e-10)


def test_normalize_maps_options():
    x = np.array([[[-2.0, 1.0], [0.0, 4.0]]])
    np.testing.assert_allclose(normalize_maps(x, normalize="max"), [[-0.5, 0.25, 0.0, 1.0]], atol=1e-15)
    np.testing.assert_allclose(normalize_maps(x, normalize="minmax"), [[0.0, 0.5, 2 / 6, 1.0]], atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(normalize_maps(x, normalize="unit")), 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="normalize"):
        normalize_maps(x, normalize="l1")


def test_dissimilarity_uses_population_std():
    # mean 0.75, population std 0.25 (the sample std would be 0.354).
    assert dissimilarity([0.5, 1.0]) == pytest.approx(math.hypot(0.25, 0.25), rel=1e-12)
    assert dissimilarity([0.3]) == pytest.approx(0.7, rel=1e-12)
    assert dissimilarity(np.array([])) == 1.0
    with pytest.raises(ValueError, match="NaN"):
        dissimilarity([0.5, float("nan")])


@pytest.mark.parametrize("normalize", NORMALIZE)
def test_zero_and_constant_maps_give_documented_values(normalize):
    zero = np.zeros((1, 3, 3))
    other = _maps(5, n=1, h=3, w=3)
    assert cosine_similarity(zero, zero, normalize=normalize)[0] == 1.0
    assert cosine_similarity(zero, other, normalize=normalize)[0] == 0.0
    assert rbf_similarity(zero, zero, normalize=normalize)[0] == 1.0
    sims = [
        cosine_similarity(np.full((1, 3, 3), 2.0), np.full((1, 3, 3), 5.0), normalize=normalize),
        rbf_similarity(np.full((1, 3, 3), 2.0), zero, normalize=normalize),
    ]
    assert all(np.all(np.isfinite(s)) for s in sims)


def test_zero_against_unit_map_rbf_value():
    zero = np.zeros((1, 3, 3))
    assert rbf_similarity(zero, _maps(6, n=1, h=3, w=3), 0.5)[0] == pytest.approx(math.exp(-2.0), rel=1e-12)
    # Two constant maps minmax-normalise to zero maps, hence identical.
    assert cosine_similarity(np.full((1, 2, 2), 2.0), np.full((1, 2, 2), 9.0), normalize="minmax")[0] == 1.0


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="shape"):
        cosine_similarity(np.zeros((2, 3, 3)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        cosine_similarity(np.full((1, 2, 2), np.nan), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"\[N, H, W\]"):
        as_maps(np.zeros(4))
    with pytest.raises(ValueError, match="sigma"):
        rbf_similarity(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), 0.0)


def test_similarity_matrix_is_mean_of_pairwise_similarities():
    maps = {"a": _maps(10), "b": _maps(11), "c": _maps(12)}
    result = similarity_matrix(maps, metric="cosine")
    assert result.names == ("a", "b", "c")
    sims = cosine_similarity(maps["a"], maps["c"])
    i, j = result.index("a"), result.index("c")
    assert result.similarity[i, j] == pytest.approx(sims.mean(), rel=1e-12)
    assert result.std[i, j] == pytest.approx(sims.std(), rel=1e-12)
    assert result.dissimilarity[i, j] == pytest.approx(dissimilarity(sims), rel=1e-12)
    np.testing.assert_array_equal(result.similarity, result.similarity.T)
    np.testing.assert_array_equal(np.diag(result.similarity), 1.0)
    np.testing.assert_array_equal(np.diag(result.dissimilarity), 0.0)
    np.testing.assert_array_equal(result.counts, 5)
    with pytest.raises(ValueError):
        result.similarity[0, 1] = 0.0  # read-only


def test_similarity_matrix_rbf_and_callable_metrics():
    maps = {"a": _maps(13), "b": _maps(14)}
    rbf = similarity_matrix(maps, metric="rbf")
    assert rbf.similarity[0, 1] == pytest.approx(rbf_similarity(maps["a"], maps["b"]).mean(), rel=1e-12)
    custom = similarity_matrix(maps, metric=lambda a, b: np.full(len(a), 0.25))
    assert custom.similarity[0, 1] == pytest.approx(0.25, abs=1e-15)
    assert custom.dissimilarity[0, 1] == pytest.approx(0.75, abs=1e-15)
    with pytest.raises(ValueError, match="shape"):
        similarity_matrix(maps, metric=lambda a, b: np.zeros(2))
    with pytest.raises(ValueError, match="metric"):
        similarity_matrix(maps, metric="euclid")  # type: ignore[arg-type]


def test_same_prediction_uses_only_agreeing_images():
    a = _maps(20, n=4)
    b = a.copy()
    b[1] = -a[1]  # images 1 and 3 disagree in maps and in predictions
    b[3] = -a[3]
    c = _maps(21, n=4)
    preds = {"a": np.array([0, 1, 2, 3]), "b": np.array([0, 9, 2, 9]), "c": np.array([5, 5, 5, 5])}
    result = similarity_matrix({"a": a, "b": b, "c": c}, same_prediction=preds)
    assert result.counts[0, 1] == 2
    assert result.similarity[0, 1] == pytest.approx(1.0, abs=1e-12)  # only images 0 and 2
    assert result.dissimilarity[0, 1] == pytest.approx(0.0, abs=1e-12)
    unfiltered = similarity_matrix({"a": a, "b": b, "c": c})
    assert unfiltered.similarity[0, 1] == pytest.approx(0.0, abs=1e-12)  # two at +1, two at -1
    assert unfiltered.counts[0, 1] == 4


def test_no_agreeing_images_gives_fill_value_and_zero_count():
    maps = {"a": _maps(30, n=3), "b": _maps(31, n=3)}
    preds = {"a": [0, 0, 0], "b": [1, 1, 1]}
    result = similarity_matrix(maps, same_prediction=preds)
    assert result.counts[0, 1] == 0
    assert result.similarity[0, 1] == 0.0
    assert result.std[0, 1] == 0.0
    assert result.dissimilarity[0, 1] == 1.0
    assert np.all(np.isfinite(result.similarity)) and np.all(np.isfinite(result.dissimilarity))
    filled = similarity_matrix(maps, same_prediction=preds, fill=0.5)
    assert filled.dissimilarity[0, 1] == pytest.approx(0.5, abs=1e-15)
    assert filled.counts[1, 1] == 3


def test_same_prediction_validation():
    maps = {"a": _maps(32, n=3), "b": _maps(33, n=3)}
    with pytest.raises(ValueError, match="lacks"):
        similarity_matrix(maps, same_prediction={"a": [0, 0, 0]})
    with pytest.raises(ValueError, match="predictions"):
        similarity_matrix(maps, same_prediction={"a": [0, 0], "b": [0, 0]})
    with pytest.raises(ValueError, match="shape"):
        similarity_matrix({"a": _maps(34, n=3), "b": _maps(35, n=2)})


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    a, b = _maps(40), _maps(41)
    expected = cosine_similarity(a, b)
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64)
    got = cosine_similarity(ta, tb)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(rbf_similarity(ta, tb), rbf_similarity(a, b), rtol=1e-12)
    half = cosine_similarity(ta.to(torch.bfloat16), tb.to(torch.bfloat16))
    np.testing.assert_allclose(half, expected, atol=0.03)
    result = similarity_matrix({"a": ta, "b": tb}, same_prediction={"a": torch.zeros(5), "b": torch.zeros(5)})
    assert result.similarity[0, 1] == pytest.approx(expected.mean(), rel=1e-12)
    assert result.dissimilarity[0, 1] == pytest.approx(dissimilarity(torch.tensor(expected)), rel=1e-12)
