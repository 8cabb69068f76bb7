"""Louvain communities of models on the explanation-similarity graph.

Models are nodes; every pair is joined by an edge weighted by its mean
similarity (self-loops dropped, zero weights dropped).  Louvain
(:func:`networkx.algorithms.community.louvain_communities`) then finds groups
of models that explain more alike than the weights' degree sequence predicts.
Unlike :func:`harness.compare.clustering.cluster`, it picks the number of
groups itself; ``resolution`` above 1 favours more, smaller groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from networkx.algorithms.community import louvain_communities, modularity

from harness.compare.similarity import to_numpy


def similarity_graph(similarity: Any, names: Sequence[str] | None = None, *, clip_negative: bool = True) -> nx.Graph:
    """Weighted undirected graph from an ``[M, M]`` similarity matrix.

    Parameters
    ----------
    similarity:
        Symmetric matrix of mean similarities (e.g. ``SimilarityMatrix.similarity``).
    names:
        Node names, default ``m0, m1, ...``; every name is a node, even one
        without edges.
    clip_negative:
        Set negative similarities (anti-correlated maps) to 0, i.e. no edge.
        With ``False`` a negative similarity raises, because modularity is
        not defined for negative weights.

    Returns
    -------
    networkx.Graph
        Edge attribute ``weight``; no self-loops and no zero-weight edges.

    Examples
    --------
    >>> g = similarity_graph([[1.0, 0.5], [0.5, 1.0]], ["a", "b"])
    >>> g["a"]["b"]["weight"]
    0.5
    """
    s = to_numpy(similarity).astype(np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ValueError(f"similarity must be a square matrix, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("similarity contains NaN or infinite values")
    if not np.allclose(s, s.T, rtol=0.0, atol=1e-9):
        raise ValueError("similarity is not symmetric")
    m = s.shape[0]
    labels = _names(names, m)
    off_diagonal = ~np.eye(m, dtype=bool)
    if np.any(s[off_diagonal] < 0):
        if not clip_negative:
            raise ValueError("similarity has negative entries; pass clip_negative=True to drop them")
        s = np.clip(s, 0.0, None)
    graph = nx.Graph()
    graph.add_nodes_from(labels)
    for i in range(m):
        for j in range(i + 1, m):
            weight = float((s[i, j] + s[j, i]) / 2.0)
            if weight > 0:
                graph.add_edge(labels[i], labels[j], weight=weight)
    return graph


@dataclass(frozen=True, eq=False)
class Communities:
    """A Louvain partition of named models.

    Attributes
    ----------
    names:
        Model names, in matrix row order.
    labels:
        ``[M]`` community per model, numbered from 0 in order of first appearance.
    modularity:
        Weighted modularity of the partition at ``resolution``; 0 for a
        graph without edges.
    resolution:
        Louvain resolution used.
    """

    names: tuple[str, ...]
    labels: np.ndarray
    modularity: float
    resolution: float

    @property
    def n_communities(self) -> int:
        """Number of communities found."""
        return int(self.labels.max()) + 1 if self.labels.size else 0


def louvain(
    similarity: Any,
    names: Sequence[str] | None = None,
    *,
    resolution: float = 1.0,
    seed: int | None = 0,
    clip_negative: bool = True,
) -> Communities:
    """Louvain communities on the similarity graph (see :func:`similarity_graph`).

    Parameters
    ----------
    similarity:
        ``[M, M]`` symmetric similarity matrix.
    names:
        ``M`` distinct model names; default ``m0, m1, ...``.
    resolution:
        Louvain resolution; below 1 favours fewer, larger communities.
    seed:
        Seed for Louvain's node order; fixed by default so runs repeat.
    clip_negative:
        See :func:`similarity_graph`.

    Returns
    -------
    Communities
        A graph without edges (all similarities <= 0) gives one community
        per model and modularity 0.

    Examples
    --------
    >>> s = np.array([[1, .9, .1, .1], [.9, 1, .1, .1], [.1, .1, 1, .9], [.1, .1, .9, 1]])
    >>> louvain(s, ["a", "b", "c", "d"]).labels
    array([0, 0, 1, 1])
    """
    graph = similarity_graph(similarity, names, clip_negative=clip_negative)
    labels = tuple(graph.nodes)
    if graph.number_of_edges() == 0:
        parts: list[set[str]] = [{n} for n in labels]
        score = 0.0
    else:
        parts = louvain_communities(graph, weight="weight", resolution=resolution, seed=seed)
        score = float(modularity(graph, parts, weight="weight", resolution=resolution))
    community_of = {node: k for k, part in enumerate(parts) for node in part}
    renumber: dict[int, int] = {}  # Louvain's order -> order of first appearance
    relabelled = np.array([renumber.setdefault(community_of[n], len(renumber)) for n in labels], dtype=np.int64)
    relabelled.setflags(write=False)
    return Communities(names=labels, labels=relabelled, modularity=score, resolution=resolution)


def _names(names: Sequence[str] | None, m: int) -> tuple[str, ...]:
    labels = tuple(names) if names is not None else tuple(f"m{i}" for i in range(m))
    if len(labels) != m or len(set(labels)) != m:
        raise ValueError(f"need {m} distinct names, got {labels}")
    return labels
