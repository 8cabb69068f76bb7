"""The viewer's interventions panel, from a small real store: two zoo models (a CNN and a ViT), Grad-CAM and
saliency on four shapes images, two of them with stored intervention effects
(:func:`harness.zoo.effects.measure_effects`; the second with two distractors).  The browser test drives
Debian's headless Chromium as ``tests/test_viewer_browser.py`` does."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.compute.runner import Runner
from harness.compute.store import Store
from harness.explainers import create_explainer
from harness.report import intervention_panel
from harness.report.intervention_panel import RENDERS_KIND
from harness.report.summary import build_report
from harness.zoo.effects import EFFECTS_VERSION, KIND, SceneRef, measure_effects
from harness.zoo.interventions import interventions_for
from harness.zoo.shapes import balanced_indices, shapes_images

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("zoo_resnet", "zoo_vit_p16")
N_IMAGES = 4  # gallery images: balanced test samples 10, 2, 19, 4
WITH = (0, 3)  # the positions of those with stored interventions (4 has two distractors)
EXPLAINERS = ("gradcam", "saliency")
DROP_TOL = 1e-4  # the panel rounds drops to 4 decimals


def viewer_data(out: Path) -> dict:
    page = (out / "index.html").read_text()
    text = re.search(r"<script type='application/json' id='harness-data'>(.*?)</script>", page, re.S).group(1)
    return json.loads(text.replace("<\\/", "</"))


def shapes_set(data: dict) -> dict:
    return next(s for s in data["gallery"]["sets"] if s["space"] == "shapes")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A store with maps of four shapes test images and intervention logits of two."""
    tmp = tmp_path_factory.mktemp("ivpanel")
    store = Store(tmp / "store")
    runner = Runner(store, {"shapes": shapes_images("test", N_IMAGES, root=tmp / "datasets")}, device="cpu")
    indices = balanced_indices(0, "test", N_IMAGES)
    refs = [SceneRef(0, "test", indices[k]) for k in WITH]
    for model in MODELS:
        for explainer in EXPLAINERS:
            runner.explain(model, create_explainer(explainer))
        for ref in refs:
            measure_effects(runner.model(model), ref, store=store, model_fields=runner.model_fields(model))
    fields = {m: runner.model_fields(m) for m in MODELS}
    notes: list[str] = []
    out, _ = build_report(
        tmp / "reports", "cold", root=ROOT, store=store, settings={"zoo_images": N_IMAGES}, notes=notes
    )
    return tmp, out, refs, fields, notes


def test_panels_hold_decodable_renders_and_the_stored_drops(run):
    tmp, out, refs, fields, notes = run
    assert not [n for n in notes if "interventions" in n], notes
    s = shapes_set(viewer_data(out))
    panels = s["interventions"]
    assert len(panels) == len(WITH)
    store = Store(tmp / "store")
    for ref in refs:
        slug = next(slug for slug, p in panels.items() if p["scene"] == asdict(ref))
        panel = panels[slug]
        names = interventions_for(ref.scene())
        assert [r["name"] for r in panel["renders"]] == ["original", *names]
        for r in panel["renders"]:
            with Image.open(out / r["file"]) as im:
                assert im.format == "JPEG" and im.size == (intervention_panel.SIDE,) * 2
                im.load()
        assert [m["model"] for m in panel["models"]] == [m["name"] for m in s["models"]]
        for row in panel["models"]:
            key = {"model": fields[row["model"]], "scene": asdict(ref), "version": EFFECTS_VERSION}
            logits = store.get(KIND, {**key, "interventions": list(names)}).arrays["logits"].astype(np.float64)
            target = int(logits[0].argmax())
            assert row["pred"] == target and abs(row["logit"] - logits[0, target]) < DROP_TOL
            want = logits[0, target] - logits[1:, target]
            got = np.array([row["drops"][n] for n in names])
            assert np.abs(got - want).max() < DROP_TOL, (row["model"], got, want)
            big = [n for n, d in zip(names, want) if abs(d) > panel["eps_rel"] * abs(logits[0, target])]
            assert row["large"] == big
    without = [im["slug"] for im in s["images"] if im["slug"] not in panels]
    assert len(without) == N_IMAGES - len(WITH)
    assert not (out / "gallery" / s["folder"] / without[0] / intervention_panel.FOLDER).exists()


def test_a_warm_rebuild_copies_the_renders(run, monkeypatch):
    tmp, cold, _refs, _fields, _notes = run

    def no_drawing(*args):
        raise AssertionError("a warm rebuild rendered or encoded an intervention again")

    monkeypatch.setattr(intervention_panel, "_jpeg", no_drawing)
    monkeypatch.setattr(intervention_panel, "renders", no_drawing)
    store = Store(tmp / "store")
    warm, _ = build_report(tmp / "reports", "warm", root=ROOT, store=store, settings={"zoo_images": N_IMAGES})
    assert store.by_kind[RENDERS_KIND]["writes"] == 0 and store.by_kind[RENDERS_KIND]["hits"] == len(WITH)
    a, b = shapes_set(viewer_data(cold))["interventions"], shapes_set(viewer_data(warm))["interventions"]
    assert a == b
    for panel in b.values():
        for r in panel["renders"]:
            assert (warm / r["file"]).read_bytes() == (cold / r["file"]).read_bytes()


def test_bad_entries_are_noted_stale_ones_skipped_and_the_rest_is_written(run, tmp_path):
    tmp, _out, refs, fields, _notes = run
    shutil.copytree(tmp / "store", tmp_path / "store")  # the other tests keep the clean store
    store = Store(tmp_path / "store")
    ref, model = refs[0], MODELS[0]
    names = list(interventions_for(ref.scene()))
    key = {"model": fields[model], "scene": asdict(ref), "version": EFFECTS_VERSION, "interventions": names}
    logits = store.get(KIND, key).arrays["logits"]
    zeros = {"logits": np.zeros((2, 8), np.float32)}
    store.put(KIND, {**key, "scene": {**asdict(ref), "split": "nosuch"}, "interventions": ["object"]}, zeros)
    store.put(KIND, {**key, "interventions": ["object"]}, zeros)  # no longer what the scene offers
    store.put(KIND, {**key, "version": "0"}, zeros)  # an older harness's: skipped without a note
    target = int(logits[0].argmax())
    newer = logits.copy()
    newer[1:, target] -= 1.0  # every drop one logit larger
    upgraded = {**fields[model], "versions": {**fields[model]["versions"], "torch": "next"}}
    store.put(KIND, {**key, "model": upgraded}, {"logits": newer})  # the same model, written last: shown
    garbage = Path(store.root) / KIND / "zz" / "zz-garbage.npz"
    garbage.parent.mkdir(parents=True, exist_ok=True)
    garbage.write_bytes(b"not a zip")
    notes: list[str] = []
    out, _ = build_report(
        tmp_path / "reports", "bad", root=ROOT, store=store, settings={"zoo_images": N_IMAGES}, notes=notes
    )
    lines = [n for n in notes if n.startswith("report: interventions")]
    assert len(lines) == 3, notes
    assert any("zz-garbage.npz: unreadable" in n for n in lines)
    assert any("'nosuch'" in n and model in n for n in lines)
    assert any("stored for interventions ['object']; the scene now has" in n for n in lines)
    panels = shapes_set(viewer_data(out))["interventions"]
    assert len(panels) == len(WITH)
    panel = next(p for p in panels.values() if p["scene"] == asdict(ref))
    assert [m["model"] for m in panel["models"]] == list(MODELS)
    want = newer[0, target] - newer[1:, target]
    got = np.array([panel["models"][0]["drops"][n] for n in names])
    assert np.abs(got - want).max() < DROP_TOL


@pytest.mark.slow
def test_the_viewer_shows_the_panel_for_the_selected_image_only(run):
    from browser import SKIP_REASON, find_browser, headless_chrome

    if find_browser() is None:
        pytest.skip(SKIP_REASON)
    pytest.importorskip("selenium", reason="selenium is a test dependency (tox -e tests installs it)")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    _tmp, out, refs, _fields, _notes = run
    s = shapes_set(viewer_data(out))
    with_panel = next(slug for slug, p in s["interventions"].items() if p["scene"] == asdict(refs[-1]))
    without = next(im["slug"] for im in s["images"] if im["slug"] not in s["interventions"])
    driver = headless_chrome(window="1600,800", browser_log=True)
    try:
        driver.get((out / "index.html").as_uri())
        select = Select(driver.find_element(By.ID, "image-select"))
        select.select_by_value(without)
        assert not driver.find_elements(By.ID, "iv-panel")
        select.select_by_value(with_panel)
        panel = driver.find_element(By.ID, "iv-panel")
        thumbs = panel.find_elements(By.CSS_SELECTOR, "img.iv-thumb")
        assert len(thumbs) == 1 + len(interventions_for(refs[-1].scene()))
        WebDriverWait(driver, 20).until(
            lambda d: all(d.execute_script("return arguments[0].complete", i) for i in thumbs)
        )
        assert all(driver.execute_script("return arguments[0].naturalWidth", i) > 0 for i in thumbs)
        rows = panel.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert [r.get_attribute("data-model") for r in rows] == list(MODELS)
        want = s["interventions"][with_panel]["models"][0]
        cell = rows[0].find_element(By.CSS_SELECTOR, "td.iv-drop.large, td.iv-drop.rise")  # a large drop, marked
        assert cell.text.strip() in {f"{d:+.2f}" for n, d in want["drops"].items() if n in want["large"]}
        assert not [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        driver.save_screenshot(str(out / "viewer-interventions.png"))
    finally:
        driver.quit()
