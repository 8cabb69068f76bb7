"""Hierarchical clustering on a dissimilarity matrix, cuts and dendrogram plots."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from harness.compare import as_dissimilarity, cluster, plot_dendrogram

# Two tight pairs and a loner: {a, b}, {c, d}, e.
BLOCKS = np.array(
    [
        [0.0, 0.1, 0.8, 0.9, 1.0],
        [0.1, 0.0, 0.85, 0.8, 1.0],
        [0.8, 0.85, 0.0, 0.2, 1.1],
        [0.9, 0.8, 0.2, 0.0, 1.05],
        [1.0, 1.0, 1.1, 1.05, 0.0],
    ]
)
NAMES = ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize("method", ["average", "single", "complete", "weighted"])
def test_linkage_matches_scipy_on_condensed_matrix(method):
    tree = cluster(BLOCKS, NAMES, method=method)
    np.testing.assert_allclose(tree.linkage, linkage(squareform(BLOCKS), method=method), rtol=0, atol=1e-12)
    assert tree.method == method
    assert tree.names == tuple(NAMES)


def test_average_linkage_merge_heights():
    tree = cluster(BLOCKS, NAMES)
    # {a,b} at 0.1, {c,d} at 0.2, then the mean of the four cross distances.
    np.testing.assert_allclose(tree.linkage[:3, 2], [0.1, 0.2, (0.8 + 0.9 + 0.85 + 0.8) / 4], rtol=1e-12)


def test_cut_into_k_clusters():
    tree = cluster(BLOCKS, NAMES)
    np.testing.assert_array_equal(tree.cut(1), [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(tree.cut(2), [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(tree.cut(3), [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(tree.cut(5), [0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="k must be"):
        tree.cut(6)
    with pytest.raises(ValueError, match="k must be"):
        tree.cut(0)


def test_default_names_and_torch_input():
    torch = pytest.importorskip("torch")
    tree = cluster(torch.tensor(BLOCKS))
    assert tree.names == ("m0", "m1", "m2", "m3", "m4")
    np.testing.assert_array_equal(tree.cut(3), [0, 0, 1, 1, 2])


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.array([[0.0, 1.0], [0.5, 0.0]]), "symmetric"),
        (np.array([[0.1, 1.0], [1.0, 0.0]]), "diagonal"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), "negative"),
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), "NaN"),
        (np.zeros((2, 3)), "square"),
    ],
)
def test_invalid_dissimilarity_raises(matrix, message):
    with pytest.raises(ValueError, match=message):
        cluster(matrix)


def test_as_dissimilarity_tidies_rounding_noise():
    d = as_dissimilarity(np.array([[1e-12, 0.5], [0.5 + 1e-12, 0.0]]))
    np.testing.assert_array_equal(d, d.T)
    np.testing.assert_array_equal(np.diag(d), 0.0)


def test_bad_method_names_or_sizes_raise():
    with pytest.raises(ValueError, match="method"):
        cluster(BLOCKS, method="ward")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least two"):
        cluster(np.zeros((1, 1)))
    with pytest.raises(ValueError, match="distinct names"):
        cluster(BLOCKS, ["a", "a", "b", "c", "d"])


def test_dendrogram_writes_png(tmp_path):
    tree = cluster(BLOCKS, NAMES)
    out = plot_dendrogram(tree, tmp_path / "plots" / "tree.png", families=["cnn", "cnn", "vit", "vit", "cnn"])
    assert out == tmp_path / "plots" / "tree.png"
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1000
    plain = plot_dendrogram(tree, tmp_path / "plain.png", title="no families")
    assert plain.stat().st_size > 1000
    with pytest.raises(ValueError, match="families"):
        plot_dendrogram(tree, tmp_path / "bad.png", families=["cnn"])
