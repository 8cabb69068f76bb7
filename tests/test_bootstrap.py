"""The bootstrap over images on known answers: planted families, shuffled labels, coverage, ranks and ties."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import adjusted_rand_score

from harness import compare
from harness.compare import bootstrap as bs
from harness.compare.clustering import _first_appearance
from harness.compare.ranking import kendall_tau_batch, rank_batch, tie_groups

FAMILIES = ["cnn"] * 6 + ["transformer"] * 5
N_IMAGES, SIDE = 12, 10


def planted(seed: int, *, noise: float = 0.5, n: int = N_IMAGES) -> dict[str, np.ndarray]:
    """Per family a prototype map per image; each model = shared base + its family's prototype + noise."""
    rng = np.random.default_rng(seed)
    shape = (n, SIDE, SIDE)
    base = rng.normal(size=shape)
    protos = {f: rng.normal(size=shape) for f in set(FAMILIES)}
    return {f"{fam}_{k}": base + protos[fam] + noise * rng.normal(size=shape) for k, fam in enumerate(FAMILIES)}


def run(maps, families, *, resamples=500, seed=0):
    pv = bs.pair_values(maps, metric="cosine")
    sim = pv.matrix()
    cut = compare.cluster(sim.dissimilarity, sim.names).cut(2)
    a = compare.alignment(cut, families)
    sil = compare.silhouette_by_family(sim.dissimilarity, families)
    weights = bs.resample_weights(pv.n_images, resamples=resamples, seed=seed)
    return bs.bootstrap_consensus(
        pv, families, weights, estimates={"ari": a.ari, "purity": a.purity, "silhouette": sil.score}
    )


def test_separated_families_follow_with_an_interval_that_excludes_zero():
    boot = run(planted(0), FAMILIES)
    assert boot.state == "follows", boot
    assert boot.ari.low > 0 and boot.ari.low > bs.ARI_THRESHOLD, boot.ari
    assert boot.silhouette.low > 0, boot.silhouette
    assert boot.images_needed is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_family_labels_do_not_follow_or_stay_undecided(seed):
    shuffled = list(np.random.default_rng(seed).permutation(FAMILIES))
    boot = run(planted(seed), shuffled)
    assert boot.state in ("does not follow", "undecided"), boot
    assert boot.ari.low < bs.ARI_THRESHOLD
    assert boot.silhouette.low < 0.2, boot.silhouette  # no family structure in the matrix


def test_coverage_of_the_pair_similarity_and_dissimilarity_by_simulation():
    """Over 600 simulated datasets of 64 images (per-image similarity ~ Beta(4, 2), known mean and std),
    the 95 % percentile intervals of the mean similarity and of the dissimilarity cover the true value
    on 0.90-0.98 of them (the percentile bootstrap runs a little short of 95 % at small n)."""
    a, b, n, datasets = 4.0, 2.0, 64, 600
    mu = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    rng = np.random.default_rng(7)
    covered_mean, covered_dis = [], []
    for block in range(6):  # each block its own resamples: datasets do not share resampling noise
        values = rng.beta(a, b, size=(n, datasets // 6))
        pv = bs.PairValues(("a", "b"), ((0, 1),) * values.shape[1], values, np.ones_like(values, bool))
        weights = bs.resample_weights(n, resamples=1000, seed=100 + block)
        mean = bs.weighted_means(pv.values, weights)
        var = np.clip(bs.weighted_means(pv.values**2, weights) - mean**2, 0, None)
        lo, hi = bs.percentile_interval(mean)
        covered_mean += list((lo <= mu) & (mu <= hi))
        lo, hi = bs.percentile_interval(np.hypot(1 - mean, np.sqrt(var)))
        true = np.hypot(1 - mu, sd)
        covered_dis += list((lo <= true) & (true <= hi))
    assert 0.90 <= np.mean(covered_mean) <= 0.98, np.mean(covered_mean)
    assert 0.90 <= np.mean(covered_dis) <= 0.98, np.mean(covered_dis)


def test_resampled_matrices_equal_the_matrix_of_the_resampled_images():
    maps = planted(4, n=8)
    rng = np.random.default_rng(0)
    preds = {m: rng.integers(0, 2, 8) for m in maps}
    pv = bs.pair_values(maps, same_prediction=preds)
    weights = bs.resample_weights(8, resamples=5, seed=1)
    sims, dis = bs.bootstrap_pairs(pv, weights)
    for r in range(5):
        idx = np.repeat(np.arange(8), weights[r].astype(int))
        ref = compare.similarity_matrix(
            {m: v[idx] for m, v in maps.items()}, same_prediction={m: p[idx] for m, p in preds.items()}
        )
        np.testing.assert_allclose(sims[r], ref.similarity, atol=1e-12)
        np.testing.assert_allclose(dis[r], ref.dissimilarity, atol=1e-12)
    full = compare.similarity_matrix(maps, same_prediction=preds)
    np.testing.assert_array_equal(pv.matrix().similarity, full.similarity)


@pytest.mark.parametrize("method", ["average", "single", "complete", "weighted"])
def test_batched_cut_ari_and_silhouette_equal_scipy_and_sklearn(method):
    rng = np.random.default_rng(5)
    x = rng.random((200, 11, 11))
    d = x + x.transpose(0, 2, 1)
    d[:, np.arange(11), np.arange(11)] = 0
    d[:20] = np.round(d[:20], 1)  # tied merge heights: the SciPy fallback
    labels = bs.cut_labels(d, 2, method=method)
    for r in range(0, 200, 7):
        ref = _first_appearance(fcluster(linkage(squareform(d[r]), method=method), t=2, criterion="maxclust"))
        np.testing.assert_array_equal(labels[r], ref)
    ari = bs.ari_batch(labels, FAMILIES)
    np.testing.assert_allclose(ari, [adjusted_rand_score(FAMILIES, lab) for lab in labels], atol=1e-12)
    sil = bs.silhouette_batch(d, FAMILIES)
    np.testing.assert_allclose(sil[:30], [compare.silhouette_by_family(m, FAMILIES).score for m in d[:30]], atol=1e-12)


def test_three_way_and_images_needed():
    assert bs.three_way(bs.Interval(0.8, 0.6, 1.0)) == "follows"
    assert bs.three_way(bs.Interval(0.0, -0.2, 0.4)) == "does not follow"
    undecided = bs.Interval(0.7, 0.3, 0.9)
    assert bs.three_way(undecided) == "undecided"
    # half-width 0.4 on the threshold's side, 0.2 from it: (0.4 / 0.2)^2 = 4 times the images
    assert bs.images_needed(undecided, 8) == 32
    assert bs.images_needed(bs.Interval(0.5, 0.2, 0.8), 8) is None  # on the threshold
    assert str(bs.Interval(0.8213, 0.75, 0.884)) == "0.82 [0.75, 0.88]"


def test_kendall_tau_ranks_and_ties():
    from scipy.stats import kendalltau

    rng = np.random.default_rng(3)
    x, y = np.round(rng.random((40, 15)), 1), np.round(rng.random((40, 15)), 1)
    ref = [kendalltau(a, b).statistic for a, b in zip(x, y)]
    np.testing.assert_allclose(kendall_tau_batch(x, y), ref, atol=1e-12)
    assert rank_batch([[0.1, 0.9, np.nan, 0.5]]).tolist() == [[3, 1, 4, 2]]
    # a and b indistinguishable (same distribution), c far below: {a, b} tie, c apart
    samples = np.stack([rng.normal(1.0, 0.1, 500), rng.normal(1.0, 0.1, 500), rng.normal(0.0, 0.1, 500)], axis=1)
    assert tie_groups([1.01, 0.99, 0.0], samples) == [0, 0, 1]


def _metric_store(tmp_path, *, images=16):
    """Three explainers on two models and two metrics; 'good' far ahead, 'twin_a' and 'twin_b' alike."""
    from harness.compute.store import Store

    store = Store(tmp_path / "store")
    rng = np.random.default_rng(11)
    ids = [f"img{i}" for i in range(images)]
    level = {"good": 3.0, "twin_a": 1.0, "twin_b": 1.0, "random": 0.0}
    for model in ("m1", "m2"):
        for metric in ("faith", "loc"):
            for explainer, q in level.items():
                fields = {
                    "model": model,
                    "weights": "w",
                    "explainer": explainer,
                    "explainer_params": {},
                    "metric": metric,
                    "metric_params": {},
                    "images": ids,
                    "targets": [0] * images,
                }
                scores = q + rng.normal(0, 0.5, images)
                meta = {"higher_is_better": True, "category": "x", "created": 1.0}
                store.put("metric", fields, {"scores": scores}, meta)
    return store


def test_leaderboard_rank_distribution_and_ties(tmp_path):
    from harness.report.leaderboard import leaderboard_lines, write_leaderboard

    out = tmp_path / "out"
    out.mkdir()
    summary = write_leaderboard(out, _metric_store(tmp_path), bootstrap=bs.BootstrapOptions(resamples=400, seed=3))
    assert summary is not None
    agg = {a["explainer"]: a for a in summary["aggregate"]}
    assert agg["good"]["rank_shown"] == "1" and agg["good"]["p_first"] > 0.99
    assert agg["twin_a"]["tie_group"] == agg["twin_b"]["tie_group"] != agg["good"]["tie_group"]
    assert agg["twin_a"]["rank_shown"] == "2-3 (tie)"
    assert summary["bootstrap"]["resamples"] == 400 and summary["bootstrap"]["seed"] == 3
    row = summary["results"][0]
    lo, hi = row["score_interval"]
    assert lo <= row["score"] <= hi and hi > lo
    on_disk = json.loads((out / "leaderboard.json").read_text())  # plain JSON: no NaN tokens
    assert on_disk["agreement"]["kendall_tau_low"][0][1] <= on_disk["agreement"]["kendall_tau"][0][1]
    md = (out / "leaderboard.md").read_text()
    assert "2-3 (tie)" in md and " [" in md and "B=400, seed 3" in md
    (terminal,) = leaderboard_lines(out)
    assert "B=400, seed 3" in terminal and "2-3 (tie)" in terminal and "P(rank 1)" in terminal


def test_bootstrap_is_seeded(tmp_path):
    from harness.compare.leaderboard_stats import bootstrap_leaderboard
    from harness.report.metric_results import collect_metrics

    rows = collect_metrics(_metric_store(tmp_path, images=8))
    a = bootstrap_leaderboard(rows, bs.BootstrapOptions(resamples=50, seed=1))
    b = bootstrap_leaderboard(rows, bs.BootstrapOptions(resamples=50, seed=1))
    c = bootstrap_leaderboard(rows, bs.BootstrapOptions(resamples=50, seed=2))
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(a.scores, c.scores)


def test_consensus_json_carries_intervals_settings_and_class_counts(tmp_path):
    from harness.compute.store import Store
    from harness.report.summary import build_report
    from harness.zoo.shapes import CLASS_NAMES

    store = Store(tmp_path / "store")
    maps = planted(8, n=8)
    for model, family in zip(maps, FAMILIES):
        for i, attr in enumerate(maps[model]):
            fields = {"model": model, "weights": "w", "explainer": "ig", "params": {}, "image": f"d{i}", "target": 0}
            meta = {"targets_mode": "pred", "family": family, "image_id": f"shapes/{i}", "label": i % 4}
            store.put("explanation", fields, {"attribution": attr.astype(np.float32)}, meta | {"label_space": "shapes"})
    out, consensus = build_report(tmp_path / "reports", "r1", root=tmp_path, store=store, settings={})
    on_disk = json.loads((out / "consensus.json").read_text())
    assert on_disk["bootstrap"]["resamples"] == 1000 and on_disk["bootstrap"]["seed"] == 0
    (entry,) = on_disk["explainers"]
    assert entry["class_counts"] == {CLASS_NAMES[k]: 2 for k in range(4)}
    cosine = entry["metrics"][0]
    assert cosine["state"] == "follows" and cosine["verdict"].startswith("clusters follow architecture (ARI 1.00 [")
    assert "8 images (4 classes x 2)" in cosine["verdict"]
    lo, hi = cosine["alignment_cut2"]["ari_interval"]
    assert 0 < lo <= hi
    pair = cosine["pairs"][0]
    assert pair["similarity_interval"][0] <= pair["similarity"] <= pair["similarity_interval"][1]
    assert len(cosine["pairs"]) == 11 * 10 // 2
    assert (out / "consensus" / "ig-shapes" / "cosine_similarity_low.csv").is_file()


def test_cli_report_reads_the_first_zoo_images_of_a_larger_store(tmp_path, capsys):
    from harness.cli import main as cli
    from harness.compute.store import Store
    from harness.zoo.shapes import shapes_images

    records = shapes_images("test", 16, root=tmp_path / "datasets").records  # where the CLI looks: next to the store
    store = Store(tmp_path / "store")
    maps = planted(9, n=16)
    for model, family in zip(maps, FAMILIES):
        for rec, attr in zip(records, maps[model]):
            fields = {"model": model, "weights": "w", "explainer": "ig", "params": {}, "image": rec.id, "target": 0}
            meta = {"targets_mode": "pred", "family": family, "image_id": rec.id, "label": rec.label}
            store.put("explanation", fields, {"attribution": attr.astype(np.float32)}, meta | {"label_space": "shapes"})
    args = ["report", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "r"), "--resamples", "200"]
    assert cli([*args, "--zoo-images", "8"]) == 0
    out = capsys.readouterr().out
    assert "ig-shapes [cosine]: clusters follow architecture (ARI 1.00 [" in out and "8 images (8 classes x 1)" in out
    consensus = json.loads((tmp_path / "r" / "latest" / "consensus.json").read_text())
    assert consensus["explainers"][0]["images"] == [r.id for r in records[:8]]
    assert consensus["bootstrap"]["resamples"] == 200
    assert cli([*args, "--resamples", "0"]) == 0
    plain = json.loads((tmp_path / "r" / "latest" / "consensus.json").read_text())
    assert plain["bootstrap"] is None and len(plain["explainers"][0]["images"]) == 16
    assert "ari_interval" not in plain["explainers"][0]["metrics"][0]["alignment_cut2"]


def test_stochastic_explainers_are_compared_across_their_per_model_seeds(tmp_path):
    """KernelSHAP's seed is ``seed_for('<explainer>-<model>')``, different per model: one group all the same."""
    from harness.compute.store import Store
    from harness.report.collect import collect_groups

    store = Store(tmp_path / "store")
    rng = np.random.default_rng(0)
    for k, model in enumerate(("a", "b", "c")):
        for i in range(3):
            params = {"n_samples": 8, "seed": 1000 + k}
            fields = {"model": model, "weights": "w", "explainer": "kernelshap", "params": params, "image": f"d{i}"}
            meta = {"targets_mode": "pred", "family": "cnn", "image_id": f"set/{i}"}
            store.put("explanation", fields | {"target": 0}, {"attribution": rng.random((8, 8))}, meta)
    (group,) = collect_groups(store, side=8)
    assert group.models == ("a", "b", "c") and group.params == {"n_samples": 8}
