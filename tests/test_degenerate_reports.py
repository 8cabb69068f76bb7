"""Degenerate inputs at the seams where a narrow selection produces them (issue 22).

A narrow ``-k`` over a store that holds more than the selection leaves the
report with no metric cells, one explainer, one model or one image.  Each
statistic helper must give NaN of the right shape there (never raise), and
each report part must say in one line that it has nothing to show.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness.compare import bootstrap as bs
from harness.compare import ranking
from harness.compare.leaderboard_stats import bootstrap_leaderboard
from harness.compute.store import Store
from harness.report import summary as report_summary
from harness.report.leaderboard import write_leaderboard
from harness.report.metric_results import collect_metrics
from harness.report.summary import ReportPartWarning, build_report

# -- the statistics helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((1000, 0), (0,)), ((0, 3), (3,)), ((0,), ()), ((1, 4), (4,)), ((1000, 1), (1,)), ((), ())],
    ids=["no-columns", "no-resamples", "empty-1d", "one-resample", "one-column", "scalar"],
)
def test_percentile_interval_has_the_reduced_shape(shape, expected):
    lo, hi = bs.percentile_interval(np.ones(shape))
    assert np.shape(lo) == expected and np.shape(hi) == expected
    if 0 in shape:
        assert np.isnan(lo).all() and np.isnan(hi).all()
    else:
        assert np.all(lo == 1.0) and np.all(hi == 1.0)


def test_all_nan_resamples_give_nan_bounds_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lo, hi = bs.percentile_interval(np.full((50, 3), np.nan))
        summary = ranking.rank_summary(ranking.rank_batch(np.full((50, 3), np.nan)))
    assert np.isnan(lo).all() and np.isnan(hi).all()
    assert [s["rank_median"] for s in summary] == [1.0, 2.0, 3.0]  # NaN ranks last, ties by column order


def test_ranking_helpers_on_empty_one_item_and_one_resample():
    assert ranking.rank_summary(ranking.rank_batch(np.zeros((1000, 0)))) == []
    (one,) = ranking.rank_summary(ranking.rank_batch(np.array([[0.3]])))
    assert one == {"rank_median": 1.0, "rank_low": 1.0, "rank_high": 1.0, "p_first": 1.0}
    none = ranking.rank_summary(np.zeros((0, 2)))
    assert len(none) == 2 and all(np.isnan(v) for s in none for v in s.values())
    assert ranking.tie_groups([], np.zeros((10, 0))) == []
    assert ranking.tie_groups([1.0], np.zeros((10, 1))) == [0]
    assert ranking.kendall_tau_batch(np.zeros((0, 3)), np.zeros((0, 3))).shape == (0,)


def test_one_image_resamples_to_itself():
    w = bs.resample_weights(1, resamples=5, seed=0)
    np.testing.assert_array_equal(bs.weighted_means(np.array([2.5]), w), np.full(5, 2.5))
    iv = bs.interval(2.5, bs.weighted_means(np.array([2.5]), w))
    assert (iv.low, iv.high) == (2.5, 2.5)
    with pytest.raises(ValueError, match="at least one image"):
        bs.resample_weights(0)


samples = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=6),
    elements=st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(np.nan)),
)


@given(samples)
def test_percentile_interval_never_raises_and_orders_its_bounds(s):
    lo, hi = bs.percentile_interval(s)
    assert np.shape(lo) == s.shape[1:] == np.shape(hi)
    both = np.isfinite(lo) & np.isfinite(hi)
    assert np.all(np.asarray(lo)[both] <= np.asarray(hi)[both])


@given(samples)
def test_rank_summary_has_one_row_per_column(s):
    s2 = np.atleast_2d(s)
    rows = ranking.rank_summary(ranking.rank_batch(s2))
    assert len(rows) == s2.shape[1]
    for r in rows:
        if s2.shape[0]:
            assert 1 <= r["rank_low"] <= r["rank_median"] <= r["rank_high"] <= s2.shape[1]
            assert 0.0 <= r["p_first"] <= 1.0
    groups = ranking.tie_groups(s2[0] if s2.shape[0] else [np.nan] * s2.shape[1], s2)
    assert len(groups) == s2.shape[1]


# -- the leaderboard -------------------------------------------------------------------------------


def _metric(store, model, explainer, metric, scores, images):
    fields = {
        "model": model,
        "weights": "w",
        "explainer": explainer,
        "explainer_params": {},
        "metric": metric,
        "metric_params": {},
        "images": images,
        "targets": [0] * len(images),
    }
    meta = {"higher_is_better": True, "category": "x", "created": 1.0}
    store.put("metric", fields, {"scores": np.asarray(scores, float)}, meta)


def test_leaderboard_with_no_metric_cells_is_left_out(tmp_path):
    store = Store(tmp_path / "store")
    _metric(store, "m1", "gradcam", "faith", [1.0, 2.0], ["a", "b"])
    assert write_leaderboard(tmp_path, store, cases={("m1", "ig")}) is None
    assert not (tmp_path / "leaderboard.json").exists()


@pytest.mark.parametrize("images", [["a"], ["a", "b", "c"]], ids=["one-image", "three-images"])
def test_leaderboard_with_a_single_explainer_has_scores_and_no_aggregate(tmp_path, images):
    store = Store(tmp_path / "store")
    for model in ("m1", "m2"):
        _metric(store, model, "gradcam", "faith", np.arange(len(images)) + 1.0, images)
        _metric(store, model, "random", "faith", np.zeros(len(images)), images)
        _metric(store, model, "ig", "faith", np.arange(len(images)) + 2.0, images)  # in the store, not selected
    out = tmp_path / "out"
    out.mkdir()
    summary = write_leaderboard(out, store, cases={("m1", "gradcam"), ("m2", "gradcam")})
    assert summary is not None and summary["aggregate"] == []
    assert {r["explainer"] for r in summary["results"]} == {"gradcam"}
    for r in summary["results"]:
        lo, hi = r["score_interval"]
        assert lo <= r["score"] <= hi
    assert json.loads((out / "leaderboard.json").read_text())["aggregate"] == []


def test_leaderboard_bootstrap_with_one_resample(tmp_path):
    store = Store(tmp_path / "store")
    for e, q in (("gradcam", 1.0), ("ig", 2.0), ("random", 0.0)):
        _metric(store, "m1", e, "faith", [q, q + 1], ["a", "b"])
    boot = bootstrap_leaderboard(collect_metrics(store), bs.BootstrapOptions(resamples=1, seed=0))
    assert [a["explainer"] for a in boot.aggregate] == ["ig", "gradcam"]
    assert all(a["p_first"] in (0.0, 1.0) for a in boot.aggregate)


# -- consensus and the whole report ---------------------------------------------------------------


def _maps(store, model, family, n_images, seed):
    rng = np.random.default_rng(seed)
    for i in range(n_images):
        fields = {"model": model, "weights": "w", "explainer": "ig", "params": {}, "image": f"i{i}", "target": 0}
        meta = {"targets_mode": "pred", "family": family, "image_id": f"set/i{i}"}
        store.put("explanation", fields, {"attribution": rng.random((16, 16)).astype(np.float32)}, meta)


def test_report_with_a_single_model_says_consensus_has_nothing_to_compare(tmp_path):
    store = Store(tmp_path / "store")
    _maps(store, "a", "cnn", 4, 0)
    notes: list[str] = []
    out, consensus = build_report(tmp_path / "r", "run", root=tmp_path, store=store, settings={}, notes=notes)
    assert consensus["explainers"] == []
    assert notes == [
        "report: consensus: nothing to compare (needs two or more models with maps of the same images)",
        "report: leaderboard: no metric results in this selection",
    ]
    assert (out / "index.html").is_file() and (tmp_path / "r" / "latest" / "index.html").is_file()


def test_report_with_one_image_on_three_models_is_written(tmp_path):
    store = Store(tmp_path / "store")
    for k, (model, fam) in enumerate((("a", "cnn"), ("b", "cnn"), ("c", "transformer"))):
        _maps(store, model, fam, 1, k)
    notes: list[str] = []
    out, consensus = build_report(tmp_path / "r", "run", root=tmp_path, store=store, settings={}, notes=notes)
    (entry,) = consensus["explainers"]
    assert entry["images"] == ["set/i0"] and not any("left out" in n for n in notes)
    assert (out / "consensus.json").is_file() and (out / "index.html").is_file()


def test_a_failing_part_is_named_once_and_the_rest_is_written(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    for k, model in enumerate(("a", "b", "c")):
        _maps(store, model, "cnn", 3, k)
    _metric(store, "a", "ig", "faith", [1.0, 2.0], ["x", "y"])

    def broken(*args, **kwargs):
        raise RuntimeError("planted failure")

    monkeypatch.setattr(report_summary, "write_leaderboard", broken)
    notes: list[str] = []
    with pytest.warns(ReportPartWarning, match="leaderboard left out: RuntimeError: planted failure"):
        out, consensus = build_report(tmp_path / "r", "run", root=tmp_path, store=store, settings={}, notes=notes)
    assert notes == ["report: leaderboard left out: RuntimeError: planted failure"]
    assert consensus["explainers"] and (out / "consensus.json").is_file() and (out / "index.html").is_file()


def test_consensus_sections_are_drawn_once_and_copied_on_a_rerun(tmp_path, monkeypatch):
    """Issue 24: the consensus figures are drawn only when their inputs change."""
    from harness.report import consensus as consensus_module

    store = Store(tmp_path / "store")
    for k, (model, fam) in enumerate((("a", "cnn"), ("b", "cnn"), ("c", "transformer"), ("d", "transformer"))):
        _maps(store, model, fam, 4, k)
    first, c1 = build_report(tmp_path / "r", "one", root=tmp_path, store=store, settings={})
    drawn: list[str] = []
    real = consensus_module._section
    monkeypatch.setattr(consensus_module, "_section", lambda *a, **k: drawn.append(a[1]) or real(*a, **k))
    second, c2 = build_report(tmp_path / "r", "two", root=tmp_path, store=store, settings={})
    assert drawn == [] and c2 == json.loads(json.dumps(c1, default=float))
    names = sorted(p.relative_to(first).as_posix() for p in (first / "consensus").rglob("*") if p.is_file())
    again = sorted(p.relative_to(second).as_posix() for p in (second / "consensus").rglob("*") if p.is_file())
    assert names and names == again
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    _maps(store, "e", "cnn", 4, 9)  # a new model changes the group: drawn again
    build_report(tmp_path / "r", "three", root=tmp_path, store=store, settings={})
    assert drawn == ["ig"]


def test_overlay_layers_are_encoded_once_and_copied_on_a_rerun(tmp_path, monkeypatch):
    """Issue 24: a warm report copies the gallery's encoded layers from the store instead of encoding them."""
    from harness.report import overlays

    store = Store(tmp_path / "store")
    for k, (model, fam) in enumerate((("a", "cnn"), ("b", "transformer"))):
        _maps(store, model, fam, 2, k)
    first, _ = build_report(tmp_path / "r", "one", root=tmp_path, store=store, settings={})
    encoded: list[str] = []
    real = overlays.write_webp
    monkeypatch.setattr(overlays, "write_webp", lambda path, *a, **k: encoded.append(path.name) or real(path, *a, **k))
    second, _ = build_report(tmp_path / "r", "two", root=tmp_path, store=store, settings={})
    maps = [n for n in encoded if n.endswith((".t.webp", ".f.webp")) and "_image-" not in n]
    assert encoded and not maps  # the images and figures are drawn again; no map layer is encoded again
    layers = sorted(p.relative_to(first).as_posix() for p in (first / "gallery").rglob("*.webp"))
    assert layers and all((first / n).read_bytes() == (second / n).read_bytes() for n in layers)
