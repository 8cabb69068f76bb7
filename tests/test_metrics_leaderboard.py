"""Leaderboard from planted metric results: tables, flags, aggregate rank, agreement, CLI."""

import numpy as np
import pytest

from harness.cli import main as cli
from harness.compare.leaderboard_stats import aggregate_rank, agreement, sign_test
from harness.compute.store import Store
from harness.report.leaderboard import write_leaderboard
from harness.report.metric_results import collect_metrics


def _put(store, model, explainer, metric, scores, *, hib=True):
    fields = {
        "model": model,
        "weights": "w",
        "explainer": explainer,
        "explainer_params": {},
        "metric": metric,
        "metric_params": {"k": 1},
        "images": ["i0", "i1"],
        "targets": [0, 1],
    }
    store.put(
        "metric",
        fields,
        {"scores": np.asarray(scores, float)},
        {"higher_is_better": hib, "category": "faithfulness", "created": 1.0},
    )


def _planted(tmp_path):
    store = Store(tmp_path / "store")
    quality = {"good": 3.0, "mid": 2.0, "bad": 1.0}
    for model in ("m1", "m2"):
        for e, q in quality.items():
            _put(store, model, e, "up", [q, q])  # higher is better, agrees with quality
            _put(store, model, e, "down", [q, q], hib=False)  # lower is better: ranks the other way round
            _put(store, model, e, "same", [q, q + 0.1])  # agrees
        _put(store, model, "random", "up", [2.5, 2.5])  # beats "mid" and "bad"
        _put(store, model, "random", "down", [0.0, 0.0], hib=False)
        _put(store, model, "random", "same", [0.0, 0.0])
    return store


def test_flags_rank_and_agreement(tmp_path):
    rows = collect_metrics(_planted(tmp_path))
    flags = {(r.model, r.explainer, r.metric) for r in rows if not r.beats_random}
    assert ("m1", "mid", "up") in flags and ("m1", "good", "up") not in flags
    agg = aggregate_rank(rows)
    assert [a["explainer"] for a in agg][0] == "good"
    names, tau, counts = agreement(rows)
    i, j, k = names.index("up"), names.index("same"), names.index("down")
    assert tau[i, j] == pytest.approx(1.0) and tau[i, k] == pytest.approx(-1.0)
    assert counts[i, j] == 6


def test_written_and_printed(tmp_path, capsys):
    store = _planted(tmp_path)
    out = tmp_path / "run"
    out.mkdir()
    summary = write_leaderboard(out, store)
    assert summary is not None and (out / "leaderboard.md").read_text().count("Kendall") == 1
    assert (out / "metric_agreement.csv").is_file() and (out / "leaderboard.csv").is_file()
    assert cli(["leaderboard", "--store", str(tmp_path / "store")]) == 0
    text = capsys.readouterr().out
    assert "metric agreement" in text and "aggregate rank" in text


def test_control_note_is_printed(tmp_path):
    """A metric whose control means something else (MPRT) says so above its table."""
    store = _planted(tmp_path)
    fields = {
        "model": "m1",
        "weights": "w",
        "explainer": "good",
        "explainer_params": {},
        "metric": "mprt",
        "metric_params": {"k": 1},
        "images": ["i0", "i1"],
        "targets": [0, 1],
    }
    meta = {"higher_is_better": False, "category": "randomisation", "created": 1.0, "control": "model-independent maps"}
    store.put("metric", fields, {"scores": np.array([0.3, 0.4])}, meta)
    store.put("metric", {**fields, "explainer": "random"}, {"scores": np.array([1.0, 1.0])}, meta)
    out = tmp_path / "run"
    out.mkdir()
    summary = write_leaderboard(out, store)
    assert "Random control here: model-independent maps." in (out / "leaderboard.md").read_text()
    row = next(r for r in summary["results"] if r["metric"] == "mprt")
    assert row["beats_random"] and row["control"] == "model-independent maps"


def test_sign_test_counts_images_and_ignores_ties():

    s = np.array([0.9, 0.8, 0.5, 0.7, np.nan, 0.6])
    c = np.array([0.1, 0.2, 0.5, 0.9, 0.3, 0.1])
    won, lost, p = sign_test(s, c, higher_is_better=True)
    assert (won, lost) == (3, 1) and p == pytest.approx(5 / 16)  # P(X >= 3 | n=4)
    assert sign_test(s, c, higher_is_better=False)[:2] == (1, 3)
    assert np.isnan(sign_test(np.ones(3), np.ones(3), higher_is_better=True)[2])


def test_separation_is_reported_per_image(tmp_path):
    store = Store(tmp_path / "store")
    fields = {
        "model": "m",
        "weights": "w",
        "explainer_params": {},
        "metric": "up",
        "metric_params": {},
        "images": [f"i{k}" for k in range(6)],
        "targets": [0] * 6,
    }
    meta = {"higher_is_better": True, "category": "faithfulness", "created": 1.0}
    store.put("metric", {**fields, "explainer": "good"}, {"scores": np.arange(6.0) + 1}, meta)
    store.put("metric", {**fields, "explainer": "lucky"}, {"scores": np.array([99.0, 0, 0, 0, 0, 0])}, meta)
    store.put("metric", {**fields, "explainer": "random"}, {"scores": np.full(6, 0.5)}, meta)
    rows = {r.explainer: r for r in collect_metrics(store)}
    assert rows["good"].images_won == 6 and rows["good"].sign_p == pytest.approx(1 / 64)
    # a mean that beats random on one outlying image: flagged by the per-image count, not by the mean
    assert rows["lucky"].beats_random and (rows["lucky"].images_won, rows["lucky"].images_lost) == (1, 5)
    out = tmp_path / "run"
    out.mkdir()
    write_leaderboard(out, store)
    md = (out / "leaderboard.md").read_text()
    assert "## Beating the random control" in md and "| up | 2 | 2 | 1 | 1 | 6 | 0.016 |" in md
