"""The consensus report, from store entries to files, on planted explanations."""

import json

import numpy as np
import pytest

from harness.cli import main as cli
from harness.compute.store import Store
from harness.report.collect import collect_groups
from harness.report.summary import build_report

N_IMAGES = 6


def _put(store, model, family, maps, *, side, mode="pred", explainer="ig", weights="w", space=None):
    for i, attr in enumerate(maps):
        target = i % 3 if mode == "pred" else i % 3 + 10  # a probe explains another class
        image = f"img{i}" if space is None else f"{space}{i}"
        fields = {
            "model": model,
            "weights": weights,
            "explainer": explainer,
            "params": {"n_steps": 8},
            "image": image,
            "target": target,
        }
        meta = {"targets_mode": mode, "family": family, "image_id": f"set/{image}"}
        if space is not None:
            meta["label_space"] = space
        store.put("explanation", fields, {"attribution": attr.astype(np.float32)}, meta)


def _planted(store, rng, *, shuffle=False):
    protos = {"cnn": rng.random((N_IMAGES, 8, 8)), "transformer": rng.random((N_IMAGES, 8, 8))}
    models = [(f"cnn{i}", "cnn") for i in range(3)] + [(f"vit{i}", "transformer") for i in range(3)]
    for k, (name, fam) in enumerate(models):
        base = rng.random((N_IMAGES, 8, 8)) if shuffle else protos[fam] + 0.05 * rng.random((N_IMAGES, 8, 8))
        side = 224 if k % 2 else 240  # different input sizes, same field of view
        up = np.kron(base, np.ones((side // 8, side // 8)))
        _put(store, name, fam, up, side=side)


def test_planted_groups_are_recovered_from_the_store(tmp_path):
    store = Store(tmp_path / "store")
    _planted(store, np.random.default_rng(0))
    out, consensus = build_report(tmp_path / "reports", "run1", root=tmp_path, store=store, settings={})
    (ig,) = consensus["explainers"]
    assert ig["families"] == ["cnn"] * 3 + ["transformer"] * 3 and len(ig["images"]) == N_IMAGES
    for metric in ig["metrics"]:
        assert metric["alignment_cut2"]["ari"] == pytest.approx(1.0), metric["metric"]
        assert metric["verdict"].startswith("clusters follow architecture"), metric["verdict"]
    assert (tmp_path / "reports" / "latest" / "index.html").is_file()


def test_shuffled_maps_do_not_follow(tmp_path):
    store = Store(tmp_path / "store")
    _planted(store, np.random.default_rng(1), shuffle=True)
    _, consensus = build_report(tmp_path / "reports", "run1", root=tmp_path, store=store, settings={})
    cosine = consensus["explainers"][0]["metrics"][0]
    assert cosine["alignment_cut2"]["ari"] < 0.5
    assert cosine["state"] in ("does not follow", "undecided"), cosine["verdict"]
    assert cosine["verdict"].startswith(("clusters do not follow", "undecided at 6 images"))


def test_probes_and_incomplete_images_are_left_out(tmp_path):
    store = Store(tmp_path / "store")
    rng = np.random.default_rng(2)
    _put(store, "a", "cnn", rng.random((N_IMAGES, 16, 16)), side=16)
    _put(store, "b", "cnn", rng.random((N_IMAGES - 2, 16, 16)), side=16)
    _put(store, "b", "cnn", rng.random((N_IMAGES, 16, 16)), side=16, mode="custom", explainer="ig")
    _put(store, "c", "cnn", rng.random((N_IMAGES, 16, 16)), side=16, explainer="gradcam")
    (group,) = collect_groups(store, side=8)
    assert group.models == ("a", "b") and len(group.image_ids) == N_IMAGES - 2
    assert group.maps["a"].shape == (N_IMAGES - 2, 8, 8)
    assert collect_groups(store, cases={("a", "ig")}) == []  # one model: nothing to compare


def test_cli_report_and_compare(tmp_path, capsys):
    store = Store(tmp_path / "store")
    _planted(store, np.random.default_rng(3))
    assert cli(["report", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "r")]) == 0
    first = (tmp_path / "r" / "latest").resolve()
    assert "ig [cosine]: clusters follow architecture" in capsys.readouterr().out
    assert cli(["report", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "r"), "--same-prediction"]) == 0
    second = (tmp_path / "r" / "latest").resolve()
    assert json.loads((second / "consensus.json").read_text())["options"]["same_prediction"] is True
    capsys.readouterr()
    assert cli(["compare", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert "ig [cosine]" in out and "B - A" in out
    assert cli(["report", "--store", str(tmp_path / "missing")]) == 2


def test_label_spaces_are_compared_apart(tmp_path):
    """ImageNet models and zoo models see different images: one group each, never mixed."""
    store = Store(tmp_path / "store")
    rng = np.random.default_rng(3)
    for name in ("a", "b"):
        _put(store, name, "cnn", rng.random((N_IMAGES, 16, 16)), side=16)
    for name in ("zoo_a", "zoo_b", "zoo_c"):
        _put(store, name, "cnn", rng.random((N_IMAGES, 16, 16)), side=16, space="shapes")
    groups = {g.title: g for g in collect_groups(store, side=8)}
    assert set(groups) == {'ig {"n_steps":8}', 'ig [shapes] {"n_steps":8}'}
    assert groups['ig [shapes] {"n_steps":8}'].models == ("zoo_a", "zoo_b", "zoo_c")
    _, consensus = build_report(tmp_path / "reports", "run1", root=tmp_path, store=store, settings={})
    assert sorted(e["slug"] for e in consensus["explainers"]) == ["ig", "ig-shapes"]
