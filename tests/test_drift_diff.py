"""``harness diff``: two stores that differ by planted perturbations in named cases -> exactly those cases."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from harness.checks.noise import NoiseFloor, write_floors
from harness.cli import main
from harness.compare.change import map_change
from harness.compute.store import Store
from harness.drift.diff import diff_runs
from harness.drift.runs import CaseId, RunSpecError, Selection, load_run

MODELS = ("toy_a", "toy_b")
EXPLAINERS = ("saliency", "ig")
IMAGES = tuple(f"img{i}" for i in range(4))
VERSIONS = {"torch": "2.14.1", "captum": "0.9.0"}


def _fields(model: str, explainer: str, image: str, target: int, versions=VERSIONS) -> dict:
    return {
        "model": model,
        "explainer": explainer,
        "params": {},
        "image": f"digest-{image}",
        "target": target,
        "versions": dict(versions),
    }


def _maps(seed: int = 0) -> dict[tuple[str, str, str], np.ndarray]:
    rng = np.random.default_rng(seed)
    return {(m, e, i): rng.random((16, 16)).astype(np.float32) for m in MODELS for e in EXPLAINERS for i in IMAGES}


def _fill(store: Store, maps, *, targets=None, versions=VERSIONS) -> None:
    for (m, e, i), arr in maps.items():
        t = (targets or {}).get((m, e, i), 3)
        store.put("explanation", _fields(m, e, i, t, versions), {"attribution": arr}, {"image_id": i})


PLANTED = {("toy_a", "ig", "img1"), ("toy_b", "saliency", "img3")}


@pytest.fixture
def stores(tmp_path):
    maps = _maps()
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    _fill(a, maps)
    rng = np.random.default_rng(1)
    moved = dict(maps)
    for key in PLANTED:
        moved[key] = maps[key] + 0.5 * rng.random(maps[key].shape).astype(np.float32)
    # float noise everywhere else: below every tolerance, so never reported
    for key in set(maps) - PLANTED:
        moved[key] = maps[key] * np.float32(1 + 1e-7)
    _fill(b, moved)
    return a, b


def test_diff_names_exactly_the_planted_cases(stores):
    a, b = stores
    result = diff_runs(load_run(a.root, Selection()), load_run(b.root, Selection()))
    assert len(result.cases) == len(MODELS) * len(EXPLAINERS) * len(IMAGES)
    got = {(c.case.model, c.case.explainer, c.case.image) for c in result.moved}
    assert got == PLANTED, f"moved {sorted(got)}, planted {sorted(PLANTED)}"
    assert result.only_a == [] and result.only_b == []
    assert "MOVED: 2/16" in result.verdict_line()


def test_diff_cli_exit_status_json_junit_and_page(stores, tmp_path, capsys):
    a, b = stores
    out, junit = tmp_path / "out", tmp_path / "drift.xml"
    rc = main(["diff", str(a.root), str(b.root), "--out", str(out), "--junit-xml", str(junit)])
    assert rc == 1
    text = capsys.readouterr().out
    assert "ig x toy_a / img1" in text and "saliency x toy_b / img3" in text
    doc = json.loads((out / "diff.json").read_text())
    assert sorted(c["image"] for c in doc["cases"] if c["moved"]) == ["img1", "img3"]
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "2" and suite.get("tests") == "16"
    page = (out / "diff.html").read_text()
    assert page.count('class="pair"') == 2  # before/after/difference for each moved case
    assert len(list((out / "overlays").glob("*.webp"))) == 6
    assert main(["diff", str(a.root), str(a.root), "--out", str(tmp_path / "same")]) == 0


def test_intersection_and_left_out_line(tmp_path):
    maps = _maps()
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    _fill(a, maps)
    _fill(b, {k: v for k, v in maps.items() if k[0] == "toy_a"})  # B ran one model only
    result = diff_runs(load_run(a.root, Selection()), load_run(b.root, Selection()))
    assert len(result.cases) == 8 and not result.moved
    assert len(result.only_a) == 8 and all(c.model == "toy_b" for c in result.only_a)
    assert "8 only in A [ig x toy_b (4), saliency x toy_b (4)]" in result.left_out_line()


def test_prediction_change_is_a_move_even_for_an_identical_map(tmp_path):
    maps = _maps()
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    _fill(a, maps)
    _fill(b, maps, targets={("toy_b", "ig", "img0"): 7})
    result = diff_runs(load_run(a.root, Selection()), load_run(b.root, Selection()))
    [moved] = result.moved
    assert moved.case == CaseId("toy_b", "ig", "img0") and moved.prediction_changed
    assert moved.reasons[0] == "prediction 3 -> 7"


def test_one_store_two_environments_needs_env(tmp_path):
    maps = _maps()
    store = Store(tmp_path / "s")
    _fill(store, maps)
    _fill(store, {k: v * 2 for k, v in maps.items()}, versions={**VERSIONS, "captum": "0.8.0"})
    with pytest.raises(RunSpecError, match="several library-version sets"):
        load_run(store.root, Selection())
    a = load_run(store.root, Selection.parse(None, None, "captum=0.9.0"))
    b = load_run(store.root, Selection.parse(None, None, "captum=0.8.0"))
    result = diff_runs(a, b)
    # a scaled map keeps its cosine, ranks and mask: only the L2 bound of a noise floor catches it
    assert not result.moved
    floors = {
        (m, e): NoiseFloor(m, e, "bit-identical", 0.0, 1.0, 1.0, ("repeat",), 2) for m in MODELS for e in EXPLAINERS
    }
    assert len(diff_runs(a, b, floors=floors).moved) == 16
    write_floors(tmp_path / "noise.json", list(floors.values()))
    args = [
        "diff",
        str(store.root),
        str(store.root),
        "--out",
        str(tmp_path / "o"),
        "--noise",
        str(tmp_path / "noise.json"),
    ]
    assert main([*args, "--env-a", "captum=0.9.0", "--env-b", "captum=0.8.0"]) == 1
    assert main([*args, "--env-a", "captum=0.9.0", "--env-b", "captum=0.9.0"]) == 0


def test_map_change_measures():
    rng = np.random.default_rng(0)
    a = rng.random((20, 20))
    same = map_change(a, a.copy())
    assert same.identical and same.cosine == pytest.approx(1.0) and same.iou == 1.0 and same.rel_l2 == 0.0
    flipped = map_change(a, a[::-1, ::-1])
    assert flipped.iou < 0.5 and flipped.spearman < 0.5


def test_unreadable_side_is_a_clear_error(tmp_path, capsys):
    assert main(["diff", str(tmp_path / "nope"), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no such folder" in capsys.readouterr().err


def _report_folder(root, store: Store, *, outcome: str, score: float, rank: int, verdict: str) -> None:
    root.mkdir(parents=True)
    summary = {
        "settings": {"store": str(store.root)},
        "store": {"hits": 0, "misses": 16, "writes": 16},  # a pytest report's store counters, as summary.json has
        "versions": VERSIONS,
        "cases": [{"id": "ig-toy_a", "outcome": outcome}],
    }
    board = {
        "results": [
            {
                "explainer": "ig",
                "model": "toy_a",
                "metric": "faithfulness",
                "score": score,
                "score_interval": [0.4, 0.6],
            }
        ],
        "aggregate": [{"explainer": "ig", "rank": rank, "rank_shown": str(rank)}],
    }
    consensus = {"explainers": [{"slug": "ig", "metrics": [{"metric": "cosine", "verdict": verdict}]}]}
    for name, doc in (("summary.json", summary), ("leaderboard.json", board), ("consensus.json", consensus)):
        (root / name).write_text(json.dumps(doc))


def test_report_folders_add_checks_metrics_ranks_and_verdicts(tmp_path):
    maps = _maps()
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    _fill(a, maps)
    _fill(b, maps)
    _report_folder(tmp_path / "ra", a, outcome="passed", score=0.5, rank=1, verdict="clusters follow architecture")
    _report_folder(tmp_path / "rb", b, outcome="failed", score=0.7, rank=2, verdict="undecided")
    result = diff_runs(load_run(tmp_path / "ra", Selection()), load_run(tmp_path / "rb", Selection()))
    assert not result.moved and len(result.cases) == 16
    kinds = {(r.kind, r.before, r.after) for r in result.report_moved}
    assert kinds == {
        ("check", "passed", "failed"),
        ("metric", 0.5, 0.7),
        ("rank", "1", "2"),
        ("verdict", "clusters follow architecture", "undecided"),
    }
    # a score inside A's interval is listed but has not moved
    _report_folder(tmp_path / "rc", b, outcome="passed", score=0.55, rank=1, verdict="clusters follow architecture")
    near = diff_runs(load_run(tmp_path / "ra", Selection()), load_run(tmp_path / "rc", Selection()))
    assert [(r.kind, r.moved) for r in near.report] == [("metric", False)] and not near.anything_moved
