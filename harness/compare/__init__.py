"""Compare explanations across models: similarity, kappa, clustering, communities.

Every model explains the same ``N`` images as ``[N, H, W]`` maps (NumPy arrays
or torch tensors).  Per-image metrics give ``N`` similarities per model pair;
:func:`similarity_matrix` folds them into ``[M, M]`` similarity and
dissimilarity matrices, which feed hierarchical clustering, Louvain
communities and the architecture-alignment scores.

Examples
--------
>>> import functools
>>> import numpy as np
>>> from harness import compare
>>> rng = np.random.default_rng(0)
>>> cnn, vit = rng.random((8, 14, 14)), rng.random((8, 14, 14))
>>> maps = {f"cnn{i}": cnn + 0.1 * rng.random(cnn.shape) for i in range(3)}
>>> maps |= {f"vit{i}": vit + 0.1 * rng.random(vit.shape) for i in range(3)}
>>> families = ["cnn"] * 3 + ["transformer"] * 3
>>> result = compare.similarity_matrix(maps, metric=functools.partial(compare.cohens_kappa, top_k=0.1))
>>> tree = compare.cluster(result.dissimilarity, result.names)
>>> compare.verdict(compare.alignment(tree.cut(2), families))
'clusters follow architecture (ARI 1.00, purity 1.00, 2 clusters, 2 families, 6 models)'
>>> compare.louvain(result.similarity, result.names).labels
array([0, 0, 0, 1, 1, 1])
"""

from harness.compare.alignment import (
    Alignment,
    FamilySilhouette,
    alignment,
    follows_architecture,
    silhouette_by_family,
    verdict,
)
from harness.compare.bootstrap import (
    BootstrapOptions,
    ConsensusBootstrap,
    Interval,
    PairValues,
    bootstrap_consensus,
    format_interval,
    images_needed,
    pair_values,
    percentile_interval,
    resample_weights,
    three_way,
)
from harness.compare.clustering import Clustering, as_dissimilarity, cluster, plot_dendrogram
from harness.compare.communities import Communities, louvain, similarity_graph
from harness.compare.kappa import binarize, cohens_kappa, levels, ordinal_kappa
from harness.compare.similarity import (
    SimilarityMatrix,
    as_maps,
    cosine_similarity,
    dissimilarity,
    normalize_maps,
    rbf_similarity,
    similarity_from_values,
    similarity_matrix,
    to_numpy,
)

__all__ = [
    "Alignment",
    "BootstrapOptions",
    "ConsensusBootstrap",
    "Interval",
    "PairValues",
    "bootstrap_consensus",
    "format_interval",
    "images_needed",
    "pair_values",
    "percentile_interval",
    "resample_weights",
    "three_way",
    "Clustering",
    "Communities",
    "FamilySilhouette",
    "SimilarityMatrix",
    "alignment",
    "as_dissimilarity",
    "as_maps",
    "binarize",
    "cluster",
    "cohens_kappa",
    "cosine_similarity",
    "dissimilarity",
    "follows_architecture",
    "levels",
    "louvain",
    "normalize_maps",
    "ordinal_kappa",
    "plot_dendrogram",
    "rbf_similarity",
    "silhouette_by_family",
    "similarity_graph",
    "similarity_from_values",
    "similarity_matrix",
    "to_numpy",
    "verdict",
]
