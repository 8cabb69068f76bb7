"""Do explanation clusters follow architecture?

Given a partition of models (from :meth:`Clustering.cut` or :func:`louvain`)
and each model's family (``"cnn"``, ``"transformer"``, ...):

- :func:`alignment` scores the agreement with the adjusted Rand index (ARI:
  0 for chance, 1 for identical partitions, corrected for the number and
  sizes of groups) and purity (share of models in their cluster's majority
  family; 1 for all-singleton clusters, so read it with the ARI);
- :func:`silhouette_by_family` asks the converse without any clustering: are
  models closer to their own family than to the others, on the dissimilarity
  matrix itself;
- :func:`verdict` turns the scores into one line for reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score, silhouette_samples

from harness.compare.clustering import as_dissimilarity
from harness.compare.similarity import to_numpy

ARI_THRESHOLD = 0.5
PURITY_THRESHOLD = 0.8


@dataclass(frozen=True)
class Alignment:
    """Agreement between a partition of models and their families.

    Attributes
    ----------
    ari:
        Adjusted Rand index, in ``[-0.5, 1]``; about 0 for a random partition.
    purity:
        Fraction of models whose family is the most common one in their cluster.
    n_clusters, n_families, n_models:
        Sizes of the two partitions and of the model set.
    """

    ari: float
    purity: float
    n_clusters: int
    n_families: int
    n_models: int


@dataclass(frozen=True, eq=False)
class FamilySilhouette:
    """Silhouette of the family labelling on a precomputed dissimilarity.

    Attributes
    ----------
    score:
        Mean silhouette over models, in ``[-1, 1]``; above 0 means models are
        on average closer to their own family.
    per_model:
        ``[M]`` silhouette value per model.
    per_family:
        Mean silhouette of each family's models, in order of first appearance.
    """

    score: float
    per_model: np.ndarray
    per_family: dict[str, float]


def alignment(labels: Any, families: Sequence[str]) -> Alignment:
    """Adjusted Rand index and purity of a partition against family labels.

    Parameters
    ----------
    labels:
        ``[M]`` cluster or community label per model (any hashable values).
    families:
        ``M`` family names, in the same model order.

    Returns
    -------
    Alignment
        When both partitions are a single group the ARI is 1 (scikit-learn's
        convention); an empty model set raises.

    Examples
    --------
    >>> a = alignment([0, 0, 1, 1], ["cnn", "cnn", "transformer", "transformer"])
    >>> a.ari, a.purity
    (1.0, 1.0)
    """
    clusters = to_numpy(labels).ravel().tolist()
    fams = [str(f) for f in families]
    if len(clusters) != len(fams):
        raise ValueError(f"{len(clusters)} labels for {len(fams)} families")
    if not clusters:
        raise ValueError("no models to align")
    majority = 0
    for c in set(clusters):
        majority += Counter(f for f, k in zip(fams, clusters) if k == c).most_common(1)[0][1]
    return Alignment(
        ari=float(adjusted_rand_score(fams, clusters)),
        purity=majority / len(clusters),
        n_clusters=len(set(clusters)),
        n_families=len(set(fams)),
        n_models=len(clusters),
    )


def silhouette_by_family(dissim: Any, families: Sequence[str]) -> FamilySilhouette:
    """Silhouette of the family labelling on a dissimilarity matrix (``metric="precomputed"``).

    Parameters
    ----------
    dissim:
        ``[M, M]`` dissimilarity (e.g. ``SimilarityMatrix.dissimilarity``).
    families:
        ``M`` family names, in matrix order.

    Returns
    -------
    FamilySilhouette
        The silhouette needs ``2 <= n_families <= M - 1``; otherwise (one
        family, or every model its own family) it is undefined and every
        value is reported as 0.0 rather than NaN.  A model alone in its
        family also gets 0, as in scikit-learn.

    Examples
    --------
    >>> d = [[0, .1, .9, .9], [.1, 0, .9, .9], [.9, .9, 0, .1], [.9, .9, .1, 0]]
    >>> round(silhouette_by_family(d, ["cnn", "cnn", "vit", "vit"]).score, 3)
    0.889
    """
    d = as_dissimilarity(dissim)
    fams = [str(f) for f in families]
    if len(fams) != d.shape[0]:
        raise ValueError(f"{len(fams)} families for a {d.shape[0]}-model matrix")
    n_families = len(set(fams))
    if 2 <= n_families <= len(fams) - 1:
        per_model = silhouette_samples(d, fams, metric="precomputed").astype(np.float64)
    else:
        per_model = np.zeros(len(fams))
    per_model.setflags(write=False)
    per_family = {f: float(np.mean([s for s, g in zip(per_model, fams) if g == f])) for f in dict.fromkeys(fams)}
    score = float(per_model.mean()) if per_model.size else 0.0
    return FamilySilhouette(score=score, per_model=per_model, per_family=per_family)


def follows_architecture(
    result: Alignment,
    *,
    ari_threshold: float = ARI_THRESHOLD,
    purity_threshold: float = PURITY_THRESHOLD,
) -> bool:
    """Whether a partition follows the families: ``ari >= 0.5 and purity >= 0.8`` by default.

    The thresholds are rules of thumb, not a significance test: an ARI of
    0.5 is well above what random partitions of a dozen models reach, and
    purity 0.8 asks that clusters be mostly one family.  Needs at least two
    families; with one family the answer is ``False``.

    Examples
    --------
    >>> follows_architecture(Alignment(ari=0.82, purity=0.93, n_clusters=2, n_families=2, n_models=11))
    True
    """
    return result.n_families >= 2 and result.ari >= ari_threshold and result.purity >= purity_threshold


def verdict(
    result: Alignment,
    *,
    silhouette: float | None = None,
    ari_threshold: float = ARI_THRESHOLD,
    purity_threshold: float = PURITY_THRESHOLD,
) -> str:
    """One line saying whether the clusters follow architecture, with the numbers.

    Parameters
    ----------
    result:
        From :func:`alignment`.
    silhouette:
        Optional family silhouette score to quote (:func:`silhouette_by_family`);
        it does not change the verdict.
    ari_threshold, purity_threshold:
        Verdict rule, see :func:`follows_architecture`.

    Returns
    -------
    str
        ``"clusters follow architecture (...)"``, ``"clusters do not follow
        architecture (...)"``, or, with fewer than two families,
        ``"cannot tell whether clusters follow architecture: one family (...)"``.

    Examples
    --------
    >>> verdict(Alignment(ari=0.82, purity=0.93, n_clusters=2, n_families=2, n_models=11))
    'clusters follow architecture (ARI 0.82, purity 0.93, 2 clusters, 2 families, 11 models)'
    """
    numbers = f"ARI {result.ari:.2f}, purity {result.purity:.2f}"
    if silhouette is not None:
        numbers += f", family silhouette {silhouette:.2f}"
    numbers += ", " + ", ".join(
        _plural(n, word)
        for n, word in ((result.n_clusters, "cluster"), (result.n_families, "family"), (result.n_models, "model"))
    )
    if result.n_families < 2:
        return f"cannot tell whether clusters follow architecture: one family ({numbers})"
    follows = follows_architecture(result, ari_threshold=ari_threshold, purity_threshold=purity_threshold)
    return f"clusters {'follow' if follows else 'do not follow'} architecture ({numbers})"


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"
