"""Hierarchical clustering of models on their explanation dissimilarity.

:func:`cluster` runs :func:`scipy.cluster.hierarchy.linkage` on the condensed
form of an ``[M, M]`` dissimilarity matrix (average linkage by default), the
result is cut into ``k`` groups with :meth:`Clustering.cut`, and
:func:`plot_dendrogram` draws the tree to a PNG with the model names as leaf
labels, optionally coloured by family.  Matplotlib is imported only inside the
plot function and draws on the Agg canvas, without pyplot's global state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.cluster.hierarchy import dendrogram, fcluster, linkage
from scipy.spatial.distance import squareform

from harness.compare.similarity import to_numpy

Method = Literal["average", "single", "complete", "weighted"]
_METHODS = ("average", "single", "complete", "weighted")


def as_dissimilarity(dissim: Any, *, tol: float = 1e-9) -> np.ndarray:
    """Check and tidy an ``[M, M]`` dissimilarity matrix.

    Parameters
    ----------
    dissim:
        Square, symmetric, finite, non-negative matrix with a zero diagonal
        (array or torch tensor).
    tol:
        Absolute tolerance for the symmetry and zero-diagonal checks.

    Returns
    -------
    numpy.ndarray
        ``float64`` copy, exactly symmetric with an exact zero diagonal.

    Examples
    --------
    >>> as_dissimilarity([[0.0, 1.0], [1.0, 0.0]]).shape
    (2, 2)
    """
    d = to_numpy(dissim).astype(np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"dissimilarity must be a square matrix, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("dissimilarity contains NaN or infinite values")
    if np.any(d < -tol):
        raise ValueError("dissimilarity has negative entries")
    if not np.allclose(d, d.T, rtol=0.0, atol=tol):
        raise ValueError("dissimilarity is not symmetric")
    if np.any(np.abs(np.diag(d)) > tol):
        raise ValueError("dissimilarity has a non-zero diagonal")
    d = np.clip((d + d.T) / 2.0, 0.0, None)
    np.fill_diagonal(d, 0.0)
    return d


@dataclass(frozen=True, eq=False)
class Clustering:
    """A linkage tree over named models.

    Attributes
    ----------
    names:
        Leaf names, in the row order of the dissimilarity matrix.
    linkage:
        SciPy linkage matrix, ``[M - 1, 4]``.
    method:
        Linkage method used.
    """

    names: tuple[str, ...]
    linkage: np.ndarray
    method: str

    def cut(self, k: int) -> np.ndarray:
        """Flat partition into at most ``k`` clusters (``fcluster``, ``maxclust``).

        Parameters
        ----------
        k:
            Wanted number of clusters, ``1 <= k <= M``; ties in merge heights
            can yield fewer.

        Returns
        -------
        numpy.ndarray
            ``[M]`` integer labels from 0, numbered in order of first
            appearance along ``names``.

        Examples
        --------
        >>> tree = cluster([[0.0, 0.1, 0.9], [0.1, 0.0, 0.9], [0.9, 0.9, 0.0]])
        >>> tree.cut(2)
        array([0, 0, 1])
        """
        m = len(self.names)
        if not 1 <= k <= m:
            raise ValueError(f"k must be in 1..{m}, got {k}")
        return _first_appearance(fcluster(self.linkage, t=k, criterion="maxclust"))


def cluster(dissim: Any, names: Sequence[str] | None = None, *, method: Method = "average") -> Clustering:
    """Agglomerative clustering of models on a precomputed dissimilarity matrix.

    Parameters
    ----------
    dissim:
        ``[M, M]`` dissimilarity (e.g. ``SimilarityMatrix.dissimilarity``), ``M >= 2``.
    names:
        ``M`` model names; default ``m0, m1, ...``.
    method:
        ``"average"`` (UPGMA, default), ``"single"``, ``"complete"`` or
        ``"weighted"``.  Centroid, median and Ward linkage assume Euclidean
        distances, which explanation dissimilarities are not, so they are refused.

    Returns
    -------
    Clustering

    Examples
    --------
    >>> tree = cluster([[0.0, 0.2], [0.2, 0.0]], ["resnet", "vit"])
    >>> float(tree.linkage[0, 2])
    0.2
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    d = as_dissimilarity(dissim)
    m = d.shape[0]
    if m < 2:
        raise ValueError("need at least two models to cluster")
    labels = tuple(names) if names is not None else tuple(f"m{i}" for i in range(m))
    if len(labels) != m or len(set(labels)) != m:
        raise ValueError(f"need {m} distinct names, got {labels}")
    tree = linkage(squareform(d, checks=False), method=method)
    tree.setflags(write=False)
    return Clustering(names=labels, linkage=tree, method=method)


def plot_dendrogram(
    clustering: Clustering,
    path: str | Path,
    *,
    families: Sequence[str] | None = None,
    title: str | None = None,
    dpi: int = 100,
) -> Path:
    """Draw the clustering tree to a PNG file.

    Parameters
    ----------
    clustering:
        Result of :func:`cluster`.
    path:
        Output file; parent folders are created.
    families:
        Optional family per model (``"cnn"``, ``"transformer"``, ...), in
        ``clustering.names`` order; leaf labels are then coloured by family
        and a legend is added.
    title:
        Figure title; default names the linkage method.
    dpi:
        Resolution of the PNG.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> tree = cluster([[0.0, 0.2], [0.2, 0.0]], ["resnet", "vit"])
    >>> plot_dendrogram(tree, tmp / "tree.png", families=["cnn", "transformer"])  # doctest: +SKIP
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # lazy: matplotlib takes ~0.2-0.8 s to import
    from matplotlib.figure import Figure  # lazy: matplotlib takes ~0.2-0.8 s to import
    from matplotlib.patches import Patch  # lazy: matplotlib takes ~0.2-0.8 s to import

    names = clustering.names
    if families is not None and len(families) != len(names):
        raise ValueError(f"{len(families)} families for {len(names)} models")
    fig = Figure(figsize=(max(4.0, 0.45 * len(names) + 2.0), 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    dendrogram(clustering.linkage, labels=list(names), ax=ax, leaf_rotation=90, color_threshold=0)
    ax.set_ylabel("dissimilarity")
    ax.set_title(title if title is not None else f"{clustering.method} linkage")
    if families is not None:
        colours = _family_colours(families)
        family_of = dict(zip(names, families))
        for tick in ax.get_xmajorticklabels():
            tick.set_color(colours[family_of[tick.get_text()]])
        handles = [Patch(color=c, label=f) for f, c in colours.items()]
        ax.legend(handles=handles, title="family", loc="upper right", fontsize="small")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=dpi)
    return out


def _family_colours(families: Sequence[str]) -> dict[str, str]:
    ordered = list(dict.fromkeys(families))
    return {f: f"C{i % 10}" for i, f in enumerate(ordered)}


def _first_appearance(labels: Any) -> np.ndarray:
    """Relabel any partition as 0, 1, ... in order of first appearance."""
    values = to_numpy(labels).ravel()
    mapping: dict[Any, int] = {}
    return np.array([mapping.setdefault(v, len(mapping)) for v in values.tolist()], dtype=np.int64)
