"""Similarity graph and Louvain communities."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from harness.compare import louvain, similarity_graph

BLOCKS = np.array(
    [
        [1.0, 0.9, 0.8, 0.1, 0.1, 0.0],
        [0.9, 1.0, 0.85, 0.1, 0.0, 0.1],
        [0.8, 0.85, 1.0, 0.1, 0.1, 0.1],
        [0.1, 0.1, 0.1, 1.0, 0.9, 0.8],
        [0.1, 0.0, 0.1, 0.9, 1.0, 0.9],
        [0.0, 0.1, 0.1, 0.8, 0.9, 1.0],
    ]
)
NAMES = ["r18", "r50", "vgg", "vit", "deit", "swin"]


def test_graph_weights_drop_self_loops_zeros_and_negatives():
    s = np.array([[1.0, 0.5, -0.2], [0.5, 1.0, 0.0], [-0.2, 0.0, 1.0]])
    g = similarity_graph(s, ["a", "b", "c"])
    assert sorted(g.nodes) == ["a", "b", "c"]
    assert list(g.edges(data="weight")) == [("a", "b", 0.5)]
    assert nx.number_of_selfloops(g) == 0
    with pytest.raises(ValueError, match="clip_negative"):
        similarity_graph(s, clip_negative=False)


def test_graph_rejects_asymmetric_or_nan():
    with pytest.raises(ValueError, match="symmetric"):
        similarity_graph(np.array([[1.0, 0.2], [0.3, 1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        similarity_graph(np.array([[1.0, np.nan], [np.nan, 1.0]]))


def test_louvain_finds_blocks():
    result = louvain(BLOCKS, NAMES)
    np.testing.assert_array_equal(result.labels, [0, 0, 0, 1, 1, 1])
    assert result.names == tuple(NAMES)
    assert result.n_communities == 2
    assert result.modularity > 0.3
    assert result.resolution == 1.0


def test_louvain_is_deterministic_for_a_seed():
    rng = np.random.default_rng(0)
    x = rng.random((9, 9))
    s = (x + x.T) / 2
    first = louvain(s, seed=3)
    again = louvain(s, seed=3)
    np.testing.assert_array_equal(first.labels, again.labels)
    assert first.modularity == again.modularity


def test_higher_resolution_splits_more():
    coarse = louvain(BLOCKS, NAMES, resolution=0.1)
    fine = louvain(BLOCKS, NAMES, resolution=5.0)
    assert coarse.n_communities == 1
    assert fine.n_communities > 2


def test_graph_without_edges_gives_singletons():
    result = louvain(np.eye(4) - 0.5 * (1 - np.eye(4)))  # all off-diagonal similarities negative
    np.testing.assert_array_equal(result.labels, [0, 1, 2, 3])
    assert result.modularity == 0.0
