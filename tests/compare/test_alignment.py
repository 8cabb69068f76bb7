"""Adjusted Rand index, purity, family silhouette and the one-line verdict."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from harness.compare import Alignment, alignment, follows_architecture, silhouette_by_family, verdict

FAMILIES = ["cnn", "cnn", "cnn", "transformer", "transformer"]


def test_perfect_partition_in_any_label_names():
    for labels in ([0, 0, 0, 1, 1], [7, 7, 7, 2, 2], ["x", "x", "x", "y", "y"]):
        result = alignment(labels, FAMILIES)
        assert result == Alignment(ari=1.0, purity=1.0, n_clusters=2, n_families=2, n_models=5)


def test_hand_computed_purity_and_sklearn_ari():
    labels = [0, 0, 1, 1, 1]  # cluster 0: 2 cnn; cluster 1: 1 cnn + 2 transformer
    result = alignment(labels, FAMILIES)
    assert result.purity == pytest.approx(4 / 5, abs=1e-15)
    assert result.ari == pytest.approx(adjusted_rand_score(FAMILIES, labels), abs=1e-15)
    assert result.ari < 1.0


def test_single_cluster_and_singletons():
    one = alignment([0] * 5, FAMILIES)
    assert one.ari == pytest.approx(0.0, abs=1e-15)
    assert one.purity == pytest.approx(3 / 5, abs=1e-15)
    singletons = alignment(range(5), FAMILIES)
    assert singletons.purity == 1.0  # purity alone rewards over-splitting ...
    assert singletons.ari == pytest.approx(0.0, abs=1e-15)  # ... the ARI does not
    assert not follows_architecture(singletons)


def test_alignment_validates_lengths():
    with pytest.raises(ValueError, match="labels"):
        alignment([0, 1], FAMILIES)
    with pytest.raises(ValueError, match="no models"):
        alignment([], [])


def test_verdict_lines_and_thresholds():
    good = Alignment(ari=0.82, purity=0.93, n_clusters=2, n_families=2, n_models=11)
    assert verdict(good) == "clusters follow architecture (ARI 0.82, purity 0.93, 2 clusters, 2 families, 11 models)"
    assert verdict(good, ari_threshold=0.9).startswith("clusters do not follow architecture (ARI 0.82")
    assert "family silhouette 0.41" in verdict(good, silhouette=0.41)
    impure = Alignment(ari=0.6, purity=0.7, n_clusters=3, n_families=2, n_models=11)
    assert verdict(impure).startswith("clusters do not follow architecture")
    one_family = Alignment(ari=1.0, purity=1.0, n_clusters=1, n_families=1, n_models=4)
    assert verdict(one_family) == (
        "cannot tell whether clusters follow architecture: one family "
        "(ARI 1.00, purity 1.00, 1 cluster, 1 family, 4 models)"
    )
    assert not follows_architecture(one_family)


def test_silhouette_matches_sklearn_precomputed():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 1, (3, 2)), rng.normal(3, 1, (2, 2))])
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    result = silhouette_by_family(d, FAMILIES)
    assert result.score == pytest.approx(silhouette_score(d, FAMILIES, metric="precomputed"), abs=1e-12)
    assert list(result.per_family) == ["cnn", "transformer"]
    assert result.per_family["cnn"] == pytest.approx(result.per_model[:3].mean(), abs=1e-12)
    assert result.per_model.shape == (5,)


def test_silhouette_undefined_cases_are_zero_not_nan():
    d = np.array([[0.0, 0.3, 0.5], [0.3, 0.0, 0.4], [0.5, 0.4, 0.0]])
    one = silhouette_by_family(d, ["cnn"] * 3)
    assert one.score == 0.0 and one.per_family == {"cnn": 0.0}
    each = silhouette_by_family(d, ["a", "b", "c"])
    assert each.score == 0.0
    np.testing.assert_array_equal(each.per_model, 0.0)
    with pytest.raises(ValueError, match="families"):
        silhouette_by_family(d, ["a", "b"])
