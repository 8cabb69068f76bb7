"""Galleries, overlays and the viewer page, on a small hand-made store (no model runs)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from harness.compute.store import Store
from harness.images import ImageRecord, ImageSet, image_digest, read_image
from harness.report import overlays
from harness.report.gallery import ImageLookup, index_store, write_galleries
from harness.report.viewer import write_viewer

SIDE = 224  # the zoo models' input size


def _image_set(tmp_path, n=2) -> ImageSet:
    rng = np.random.default_rng(0)
    recs = []
    for i in range(n):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(rng.integers(0, 255, (SIDE, SIDE, 3), dtype=np.uint8)).save(path)
        recs.append(ImageRecord(id=f"mine/img{i}</script>", path=path, label=i, label_space="shapes"))
    return ImageSet("mine", tuple(recs))


def _put(store, model, family, explainer, digest, image_id, attr, *, weights="w1", native=None, mode="pred", target=1):
    fields = {"model": model, "weights": weights, "explainer": explainer, "params": {}, "image": digest}
    fields["target"] = target
    meta = {"targets_mode": mode, "image_id": image_id, "family": family, "label_space": "shapes", "label": 0}
    arrays = {"attribution": attr.astype(np.float32)}
    if native is not None:
        arrays["native"] = native.astype(np.float32)
    store.put("explanation", fields, arrays, meta)


@pytest.fixture
def store(tmp_path):
    images = _image_set(tmp_path)
    s = Store(tmp_path / "store")
    rng = np.random.default_rng(1)
    for rec in images.records:
        d = image_digest(read_image(rec.path))
        for model, family in (("zoo_vit_p16", "transformer"), ("zoo_resnet", "cnn")):
            native = rng.random((7, 7)) if model == "zoo_resnet" else rng.random((14, 14))
            _put(
                s,
                model,
                family,
                "gradcam",
                d,
                rec.id,
                np.kron(native, np.ones((SIDE // native.shape[0],) * 2)),
                native=native,
            )
            _put(s, model, family, "ig", d, rec.id, rng.normal(size=(SIDE, SIDE)))
            _put(s, model, family, "rollout", d, rec.id, rng.random((SIDE, SIDE)))
            s.put("logits", {"model": model, "weights": "w1", "image": d}, {"logits": np.array([0.0, np.log(3.0)])})
        # ignored: another weights version with fewer maps, and a probe of another class
        _put(s, "zoo_resnet", "cnn", "gradcam", d, rec.id, rng.random((SIDE, SIDE)), weights="old")
        _put(s, "zoo_resnet", "cnn", "ig", d, rec.id, rng.random((SIDE, SIDE)), mode="custom", target=0)
    return s, images


def test_normalise_clips_at_the_99th_percentile_and_keeps_the_sign():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 50))
    a[0, 0] = np.nan
    signed = overlays.normalise(a, overlays.Style(signed=True))
    assert np.isfinite(signed).all() and signed.min() >= -1 and signed.max() <= 1
    assert (np.sign(signed[1:]) == np.sign(a[1:])).all()
    p99 = np.percentile(np.abs(np.nan_to_num(a)), 99)
    assert np.isclose(np.abs(signed).max(), 1.0) and (np.abs(np.nan_to_num(a)) >= p99).sum() >= 25
    seq = overlays.normalise(rng.random((40, 40)) + 3, overlays.Style(signed=False))
    assert seq.min() == 0 and seq.max() == 1
    assert overlays.normalise(np.zeros((4, 4)), overlays.Style(signed=True)).max() == 0


def test_signed_maps_are_diverging_and_rectified_ones_sequential():
    neg = [np.array([[-1.0, 2.0]])]
    assert overlays.style_for("ig", neg).cmap == overlays.DIVERGING
    assert overlays.style_for("gradcam", neg).cmap == overlays.SEQUENTIAL  # rectified by its tags
    assert overlays.style_for("rollout", [np.array([[0.1, 0.3]])]).cmap == overlays.SEQUENTIAL
    rgba = overlays.colorize(np.array([[0.0, 1.0, -1.0]]), overlays.Style(signed=True))
    assert rgba[0, 0, 3] == 0 and rgba[0, 1, 3] == 255  # zero is transparent, the clip opaque
    assert rgba[0, 1, 0] > rgba[0, 1, 2] and rgba[0, 2, 2] > rgba[0, 2, 0]  # positive red, negative blue


def test_index_takes_primary_maps_of_the_most_complete_weights(store):
    s, _ = store
    index = index_store(s)
    assert {r.weights for r in index.refs} == {"w1"}
    assert len(index.refs) == 2 * 2 * 3  # models x images x explainers, the probe left out
    assert s.hits == s.misses == 0  # an index reads no entry through get()


def test_galleries_cover_every_model_and_explainer_at_display_size(store, tmp_path):
    s, images = store
    out = tmp_path / "report"
    g = write_galleries(out, s, lookup=ImageLookup([images]))
    (shapes,) = g["sets"]
    assert [m["name"] for m in shapes["models"]] == ["zoo_resnet", "zoo_vit_p16"]  # CNNs first
    styles = {e["key"]: e["cmap"] for e in shapes["explainers"]}
    assert styles == {"gradcam": "inferno", "ig": "RdBu_r", "rollout": "inferno"}
    assert len(shapes["images"]) == 2
    for im in shapes["images"]:
        cells = shapes["cells"][im["slug"]]
        assert set(cells) == {"zoo_resnet", "zoo_vit_p16"}
        for model, cell in cells.items():
            assert cell["prob"] == pytest.approx(0.75) and set(cell["maps"]) == set(styles)
            assert Image.open(out / cell["image"]["thumb"]).size == (160, 160)
            assert Image.open(out / cell["maps"]["ig"]["full"]).size == (SIDE, SIDE)
            nat = cell["maps"]["gradcam"]["native"]
            assert nat["resolution"] == ([7, 7] if model == "zoo_resnet" else [14, 14])
            blocks = np.asarray(Image.open(out / nat["thumb"]).convert("RGBA")).reshape(-1, 4)
            assert len(np.unique(blocks, axis=0)) <= nat["resolution"][0] ** 2  # one colour per block
            assert "native" not in cell["maps"]["ig"]  # only the CAM family
        figs = shapes["figures"][im["slug"]]
        assert (out / figs["grid"]).is_file() and (out / figs["native"]).is_file()


def test_an_image_no_longer_in_its_set_still_shows_its_maps(store, tmp_path):
    s, _ = store
    g = write_galleries(tmp_path / "r", s, lookup=ImageLookup([]))
    cell = next(iter(g["sets"][0]["cells"].values()))["zoo_resnet"]
    assert cell["image"] is None and (tmp_path / "r" / cell["maps"]["ig"]["thumb"]).is_file()


def test_viewer_page_is_self_contained(store, tmp_path):
    s, images = store
    out = tmp_path / "report"
    out.mkdir()
    (out / "leaderboard.json").write_text(json.dumps({"results": [{"model": "m", "score": 1.0, "score_ci95": [0, 2]}]}))
    g = write_galleries(out, s, lookup=ImageLookup([images]))
    page = write_viewer(out, {"run_id": "r1", "settings": {"images": "mine"}}, g).read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no network
    assert "<script src" not in page and "<link" not in page
    assert page.count("</script>") == 2  # the image id's "</script>" is escaped inside the data
    data = json.loads(re.search(r"id='harness-data'>(.*?)</script>", page, re.S).group(1))
    assert data["leaderboard"]["results"][0]["score_ci95"] == [0, 2]  # new fields pass through
    for cell in data["gallery"]["sets"][0]["cells"].values():
        for c in cell.values():
            assert all((out / m["thumb"]).is_file() for m in c["maps"].values())


def test_large_stores_show_progress_on_the_terminal(store, tmp_path, monkeypatch):
    import io
    import sys

    from harness.report import gallery

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    s, images = store
    term = Terminal()
    monkeypatch.setattr(sys, "__stderr__", term)
    monkeypatch.setattr(gallery, "PROGRESS_FROM", 0)
    write_galleries(tmp_path / "r", s, lookup=ImageLookup([images]), figures=False)
    text = term.getvalue()
    assert "report: index" in text and "report: gallery shapes" in text and "/12 " in text  # 12 maps
    quiet = Terminal()
    monkeypatch.setattr(sys, "__stderr__", quiet)
    monkeypatch.setattr(gallery, "PROGRESS_FROM", 10_000)
    write_galleries(tmp_path / "q", s, lookup=ImageLookup([images]), figures=False)
    assert quiet.getvalue() == ""


def test_the_set_with_cnns_and_vits_comes_first(store, tmp_path):
    s, images = store
    rec = images.records[0]
    fields = {"model": "efficientnet_lite0", "weights": "w", "explainer": "gradcam", "params": {}, "image": "d0"}
    meta = {"targets_mode": "pred", "image_id": "a/photo", "family": "cnn", "label_space": "imagenet"}
    s.put("explanation", {**fields, "target": 3}, {"attribution": np.ones((SIDE, SIDE), np.float32)}, meta)
    g = write_galleries(tmp_path / "r", s, lookup=ImageLookup([images]), figures=False)
    assert [x["space"] for x in g["sets"]] == ["shapes", "imagenet"]
    assert rec.id in [im["id"] for im in g["sets"][0]["images"]]
