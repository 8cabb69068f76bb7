"""End to end: planted architecture groups are recovered, random maps are not.

Each family's maps are a shared base + a family prototype + per-model noise,
so models of one family explain alike.  Model order is shuffled so that
recovery cannot come from the input order.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from harness.compare import (
    alignment,
    cluster,
    cohens_kappa,
    follows_architecture,
    louvain,
    ordinal_kappa,
    silhouette_by_family,
    similarity_matrix,
    verdict,
)

N_IMAGES, SIDE = 10, 12
GROUPS = {"cnn": 6, "transformer": 5}
METRICS = {
    "cosine": "cosine",
    "rbf": "rbf",
    "kappa_top10": functools.partial(cohens_kappa, top_k=0.1),
    "ordinal_kappa": functools.partial(ordinal_kappa, top_ks=(0.05, 0.1, 0.25)),
}


def planted(seed: int, *, noise: float = 0.5) -> tuple[dict[str, np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    shape = (N_IMAGES, SIDE, SIDE)
    base = rng.normal(size=shape)
    prototypes = {family: rng.normal(size=shape) for family in GROUPS}
    members = [(family, i) for family, count in GROUPS.items() for i in range(count)]
    maps, families = {}, []
    for k in rng.permutation(len(members)):
        family, i = members[k]
        maps[f"{family}_{i}"] = base + prototypes[family] + noise * rng.normal(size=shape)
        families.append(family)
    return maps, families


@pytest.mark.parametrize("metric", list(METRICS), ids=list(METRICS))
def test_planted_groups_are_recovered(metric):
    maps, families = planted(0)
    result = similarity_matrix(maps, metric=METRICS[metric])
    labels = cluster(result.dissimilarity, result.names).cut(2)
    clusters = alignment(labels, families)
    assert clusters.ari == pytest.approx(1.0, abs=1e-12)
    assert clusters.purity == pytest.approx(1.0, abs=1e-12)
    communities = louvain(result.similarity, result.names)
    assert alignment(communities.labels, families).ari == pytest.approx(1.0, abs=1e-12)
    silhouette = silhouette_by_family(result.dissimilarity, families)
    assert silhouette.score > 0.3
    line = verdict(clusters, silhouette=silhouette.score)
    assert line.startswith("clusters follow architecture (ARI 1.00, purity 1.00")


def test_families_crossing_the_planted_groups_do_not_follow():
    maps, groups = planted(1)
    # Relabel so that each planted group holds both families, alternating.
    seen = {group: 0 for group in GROUPS}
    families = []
    for group in groups:
        families.append("cnn" if seen[group] % 2 == 0 else "transformer")
        seen[group] += 1
    result = similarity_matrix(maps)
    clusters = alignment(cluster(result.dissimilarity, result.names).cut(2), families)
    assert clusters.ari == pytest.approx(alignment(groups, families).ari, abs=1e-12)  # the groups, recovered exactly
    assert clusters.ari < 0.1
    assert clusters.purity == pytest.approx(6 / 11, abs=1e-12)  # 3 of 6 and 3 of 5 in the majority family
    assert verdict(clusters).startswith("clusters do not follow architecture")


def test_independent_random_maps_do_not_follow_architecture():
    # A single 11-model draw can reach ARI > 0.5 by chance (about 1 seed in 100),
    # so judge the average over ten seeds, which stays below 0.1 in practice.
    families = [family for family, count in GROUPS.items() for _ in range(count)]
    aris, follows = [], []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        maps = {f"model_{i}": rng.normal(size=(N_IMAGES, SIDE, SIDE)) for i in range(len(families))}
        result = similarity_matrix(maps)
        clusters = alignment(cluster(result.dissimilarity, result.names).cut(2), families)
        aris.append(clusters.ari)
        follows.append(follows_architecture(clusters))
    assert np.mean(aris) < 0.25
    assert sum(follows) <= 2


def test_same_prediction_filter_keeps_the_groups():
    maps, families = planted(2)
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, N_IMAGES)
    # Every model is right on the first half of the images and guesses on the rest.
    predictions = {
        name: np.concatenate([truth[: N_IMAGES // 2], rng.integers(0, 3, N_IMAGES - N_IMAGES // 2)]) for name in maps
    }
    result = similarity_matrix(maps, same_prediction=predictions)
    off_diagonal = result.counts[~np.eye(len(maps), dtype=bool)]
    assert off_diagonal.min() >= N_IMAGES // 2
    assert off_diagonal.max() <= N_IMAGES
    labels = cluster(result.dissimilarity, result.names).cut(2)
    assert alignment(labels, families).ari == pytest.approx(1.0, abs=1e-12)
