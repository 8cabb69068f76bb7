"""The explore app in a real browser: ``python -m harness explore`` driven by Selenium and headless Chromium.

The test starts the command on a free local port, uploads a photo through the
page's file input, waits for the overlays and reads the rendered grid: one
overlay per model x explainer, each model's predicted class.  Then it clicks
the one-click comparison (a CNN's Grad-CAM beside a ViT's rollout) and saves
the page as a screenshot: in the test's temporary folder, or, with
``XAI_HARNESS_SHOTS=1``, as the docs' ``docs/images/explore.jpg`` (a test run
leaves the checkout as it was).  Last, a text file uploaded through
the page gets a message in the status line, and the next image is explained; two
tabs asking at once both get their grids.  Debian's ``chromium`` and
``chromium-driver`` are used as installed (``.ci/run`` installs them); the
test skips, saying so, where no browser or no Gradio is installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import SKIP_REASON, find_browser, headless_chrome

ROOT = Path(__file__).resolve().parents[1]
DOCS_SHOT = ROOT / "docs" / "images" / "explore.jpg"  # rewritten only under XAI_HARNESS_SHOTS=1
CNN, VIT, IMAGENET = "zoo_resnet", "zoo_vit_p16", "efficientnet_lite0"
MODELS = (CNN, VIT, IMAGENET)
CAT_CLASSES = ("tabby", "tiger cat", "Egyptian cat")  # the photo's label and its accepted neighbours
WAIT_S = 240  # the first request loads three models and computes every map on a shared CPU
pytestmark = pytest.mark.slow  # about 60 s: the app's start (Gradio, torch) is 20 of them


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """``python -m harness explore`` on a free port with a fresh store; yields the printed address."""
    if find_browser() is None:
        pytest.skip(SKIP_REASON)
    pytest.importorskip("selenium", reason="selenium is a test dependency (tox -e tests installs it)")
    pytest.importorskip("gradio", reason="the app extra: pip install 'xai-harness[app]' (tox -e tests installs it)")
    tmp = tmp_path_factory.mktemp("explore-app")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [
        sys.executable,
        "-m",
        "harness",
        "explore",
        "--models",
        ",".join(MODELS),
        "--explainers",
        "gradcam,rollout,saliency",
    ]
    cmd += ["--store", str(tmp / "store"), "--port", str(_free_port()), "--device", "cpu"]
    log = (tmp / "app.log").open("w")
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    address = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.startswith("xai-harness explore: http"):
            address = line.split(": ", 1)[1].strip()
            break
    if not address:
        proc.kill()
        pytest.fail(f"the app printed no address: {(tmp / 'app.log').read_text()[-3000:]}")
    yield address
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def driver(app):
    d = headless_chrome(window="1400,1900")
    d.get(app)
    yield d
    d.quit()


def _wait(driver, condition, what: str, timeout: float = WAIT_S):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.5).until(condition, message=f"waited for {what}")


def _status(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, "#xh-status").text


def _done(driver, before: str = "") -> str:
    _wait(driver, lambda d: _status(d).startswith(("Done", "**", "Cannot")) and _status(d) != before, "the grid")
    return _status(driver)


def _tick(driver, group: str, names: set[str]) -> None:
    """Make exactly ``names`` ticked in the checkbox group ``#group``."""
    from selenium.webdriver.common.by import By

    for label in driver.find_elements(By.CSS_SELECTOR, f"#{group} label"):
        box = label.find_element(By.CSS_SELECTOR, "input[type=checkbox]")
        if box.is_selected() != (label.text.split(" (")[0].strip() in names):
            label.click()


def _cells(driver) -> dict[tuple[str, str], str]:
    """``(model, explainer) -> 'overlay' | note`` as rendered."""
    from selenium.webdriver.common.by import By

    out = {}
    for td in driver.find_elements(By.CSS_SELECTOR, "#xh-grid td[data-explainer]"):
        key = (td.get_attribute("data-model"), td.get_attribute("data-explainer"))
        out[key] = "overlay" if td.find_elements(By.CSS_SELECTOR, "img.xh-overlay") else td.text
    return out


def test_upload_shows_one_overlay_per_model_and_explainer(driver, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By

    photo = tmp_path / "my_cat.jpg"  # the user's own file: a copy of scikit-image's chelsea, re-encoded
    from harness.images import builtin_images

    src = next(r.path for r in builtin_images().records if r.id == "skimage/chelsea")
    Image.open(src).convert("RGB").save(photo, quality=90)

    upload = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#xh-upload input[type=file]"), "the page", 60)
    upload.send_keys(str(photo))
    # the file name is shown as "my_cat" and ".jpg" in two elements
    _wait(driver, lambda d: "my_cat" in d.find_element(By.CSS_SELECTOR, "#xh-upload").text, "the upload", timeout=60)
    _tick(driver, "xh-models", set(MODELS))
    _tick(driver, "xh-explainers", {"gradcam", "saliency"})
    driver.find_element(By.CSS_SELECTOR, "#xh-explain").click()
    status = _done(driver)
    assert status.startswith("Done: 6 maps for my_cat.jpg"), status

    cells = _cells(driver)
    assert cells == {(m, e): "overlay" for m in MODELS for e in ("gradcam", "saliency")}
    for m in MODELS:
        top = driver.find_elements(By.CSS_SELECTOR, f'#xh-grid td.xh-model[data-model="{m}"] li.xh-class')
        assert len(top) == 5, m
        predicted = top[0].text.rsplit(" ", 1)[0]
        captions = [
            c.text for c in driver.find_elements(By.CSS_SELECTOR, f'#xh-grid td.xh-cell[data-model="{m}"] .xh-caption')
        ]
        assert captions and all(c.startswith(f"class {predicted} ") for c in captions), (m, predicted, captions)
        if m == IMAGENET:  # the ImageNet model sees the photo's real class
            assert predicted in CAT_CLASSES, predicted
    checks = driver.find_elements(By.CSS_SELECTOR, "#xh-grid li.xh-check")
    assert len(checks) == 6 * 4 and all(c.text.split(": ")[-1] in ("pass", "fail", "known", "n/a") for c in checks)
    assert driver.find_elements(By.CSS_SELECTOR, "#xh-files a, #xh-files .file-name, #xh-files td")  # the downloads


def test_one_click_comparison_and_screenshot(driver, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By

    before = _status(driver)
    driver.find_element(By.CSS_SELECTOR, "#xh-compare").click()
    _wait(driver, lambda d: _status(d) != before and _status(d).startswith("Done"), "the comparison")
    cells = _cells(driver)
    assert cells[(CNN, "gradcam")] == "overlay" and cells[(VIT, "rollout")] == "overlay"
    assert cells[(VIT, "gradcam")] == "overlay" and "transformer" in cells[(CNN, "rollout")]
    assert set(cells) == {(m, e) for m in (CNN, VIT) for e in ("gradcam", "rollout")}

    shot = DOCS_SHOT if os.environ.get("XAI_HARNESS_SHOTS") == "1" else tmp_path / "explore.jpg"
    png = shot.with_suffix(".png")
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(png))
    with Image.open(png) as im:
        im.convert("RGB").save(shot, quality=80, optimize=True)
    png.unlink()
    assert shot.stat().st_size < 400_000


def _upload(driver, path: Path) -> None:
    from selenium.webdriver.common.by import By

    for clear in driver.find_elements(By.CSS_SELECTOR, "#xh-upload button[aria-label='Clear']"):
        clear.click()
    field = _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#xh-upload input[type=file]"), "the input", 30)
    field.send_keys(str(path))
    _wait(driver, lambda d: path.stem in d.find_element(By.CSS_SELECTOR, "#xh-upload").text, path.name, 60)


def test_a_bad_upload_is_a_message_in_the_page_and_the_app_keeps_serving(driver, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By

    notes = tmp_path / "notes.txt"
    notes.write_text("not an image\n" * 10)
    _upload(driver, notes)
    before = _status(driver)
    driver.find_element(By.CSS_SELECTOR, "#xh-explain").click()
    _wait(driver, lambda d: _status(d) != before and "Cannot use this image" in _status(d), "the message", 60)
    assert "notes.txt: not an image" in _status(driver)
    assert "Traceback" not in driver.page_source and not driver.find_elements(By.CSS_SELECTOR, "#xh-grid img")

    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (64, 64), (30, 160, 90)).save(tiny)
    _upload(driver, tiny)
    driver.find_element(By.CSS_SELECTOR, "#xh-explain").click()
    _wait(driver, lambda d: _status(d).startswith("Done") and "tiny.png" in _status(d), "the next request", 120)
    assert driver.find_elements(By.CSS_SELECTOR, "#xh-grid img.xh-overlay")


def test_two_tabs_asking_at_once_both_complete(driver, app, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By

    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(app)
    second = driver.current_window_handle
    files = {}
    for handle, colour in ((second, (200, 40, 40)), (first, (40, 40, 200))):
        path = tmp_path / f"tab_{colour[0]}.png"
        Image.new("RGB", (96, 96), colour).save(path)
        files[handle] = path
        driver.switch_to.window(handle)
        _upload(driver, path)
        _tick(driver, "xh-models", {CNN, VIT})
        _tick(driver, "xh-explainers", {"gradcam", "saliency"})
    for handle in (second, first):  # both requests in flight before either is read
        driver.switch_to.window(handle)
        driver.find_element(By.CSS_SELECTOR, "#xh-explain").click()
    for handle, path in files.items():
        driver.switch_to.window(handle)
        _wait(driver, lambda d, name=path.name: _status(d).startswith(f"Done: 4 maps for {name}"), path.name, 120)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#xh-grid img.xh-overlay")) == 4
    driver.switch_to.window(second)
    driver.close()
    driver.switch_to.window(first)
