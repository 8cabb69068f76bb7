"""The report viewer in a real browser: headless Chromium driven by Selenium.

A small real run (two zoo models, a CNN and a ViT, four explainers, two
images, through the suites and the plugin) writes ``reports/<run>/``; the
test opens its ``index.html`` from disk and fails on any console error.
Debian's ``chromium`` and ``chromium-driver`` are used as installed (``.ci/run``
installs them when missing); nothing is downloaded at run time.  The test
skips, saying so, only where no browser is installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from browser import SKIP_REASON, find_browser, headless_chrome

pytestmark = pytest.mark.slow  # about 20 s: headless Chromium on a report the module builds with the suite

ROOT = Path(__file__).resolve().parents[1]
CNN, VIT = "zoo_resnet", "zoo_vit_p16"
SELECT = (
    f"({CNN} or {VIT}) and (gradcam or rollout or lrp) and not gradcam_ and not gradcampp"
    f" or (gradcam_d50 and {VIT} and check_localisation)"
)


def small_run(tmp: Path) -> Path:
    """A real pytest run of the explanation suite on two zoo models and two images; its report folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0"}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(ROOT / "suites" / "test_explanations.py"),
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        SELECT,
        "--harness-zoo-images",
        "2",
        "--harness-store",
        str(tmp / "store"),
        "--harness-reports",
        str(tmp / "reports"),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    latest = tmp / "reports" / "latest"
    assert (latest / "index.html").is_file(), f"the run wrote no viewer:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return latest.resolve()


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory) -> Path:
    return small_run(tmp_path_factory.mktemp("viewer"))


def test_figure_from_the_suite_run_computes_nothing(suite_run, tmp_path):
    from harness.cli.figures import make_figure
    from harness.compute.store import Store

    store = Store(suite_run.parent.parent / "store")
    run = make_figure("cam-vs-rollout", store=store, out=tmp_path, models=f"{CNN},{VIT}", zoo_images=2, shown=2)
    assert run.store["misses"] == 0 and run.computed == 0
    assert [p.name for p in run.files] == ["shapes.png"]


@pytest.fixture(scope="module")
def report(suite_run) -> Path:
    if find_browser() is None:
        pytest.skip(SKIP_REASON)
    pytest.importorskip("selenium", reason="selenium is a test dependency (tox -e tests installs it)")
    return suite_run


@pytest.fixture(scope="module")
def driver(report):
    d = headless_chrome(window="1500,1100", browser_log=True)
    d.get((report / "index.html").as_uri())
    yield d
    d.quit()


def _errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _broken_images(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.images).filter(i => i.offsetParent !== null && "
        "(!i.complete || i.naturalWidth === 0)).map(i => i.src)"
    )


def _wait_images(driver) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)")
    )


def _data(report: Path) -> dict:
    return json.loads((report / "summary.json").read_text())


def test_viewer_lists_models_explainers_images_without_console_errors(driver, report):
    _wait_images(driver)
    assert _errors(driver) == []
    assert _broken_images(driver) == []
    rows = [r.get_attribute("data-model") for r in driver.find_elements("css selector", "#grid tr[data-model]")]
    assert rows == [CNN, VIT]  # grouped by family: the CNN first
    explainers = {e.get_attribute("value") for e in driver.find_elements("css selector", "input.explainer-filter")}
    assert {"gradcam", "rollout", "lrp_cnn", "lrp_vit"} <= explainers
    images = [o.get_attribute("value") for o in driver.find_elements("css selector", "#image-select option")]
    assert len(images) == 2
    labels = driver.find_element("id", "grid").text
    assert "pred:" in labels and "p=" in labels  # prediction and probability in the row label
    families = {e.get_attribute("value") for e in driver.find_elements("css selector", "input.family-filter")}
    assert families == {"cnn", "transformer"}


def test_selecting_another_image_and_model_changes_the_overlay(driver, report):
    from selenium.webdriver.support.ui import Select

    driver.find_element("id", "btn-explanations").click()
    first = driver.find_element("css selector", "#grid img.map").get_attribute("src")
    select = Select(driver.find_element("id", "image-select"))
    other = [o.get_attribute("value") for o in select.options if not o.is_selected()][0]
    select.select_by_value(other)
    _wait_images(driver)
    second = driver.find_element("css selector", "#grid img.map").get_attribute("src")
    assert second != first and other in second
    driver.find_element("id", "btn-pair").click()
    before = driver.find_element("css selector", "#side-a img.map").get_attribute("src")
    Select(driver.find_element("id", "model-a")).select_by_value(VIT)
    _wait_images(driver)
    after = driver.find_element("css selector", "#side-a img.map").get_attribute("src")
    assert after != before and VIT in after
    # the opacity slider reaches every overlay
    driver.execute_script(
        "const s = document.getElementById('opacity'); s.value = 0.25; s.dispatchEvent(new Event('input'));"
    )
    opacities = driver.execute_script(
        "return Array.from(document.querySelectorAll('img.map')).map(i => i.style.opacity)"
    )
    assert opacities and set(opacities) == {"0.25"}
    assert _errors(driver) == []


def test_cam_vs_rollout_pair_shows_by_default(driver, report):
    from selenium.webdriver.support.ui import Select

    driver.refresh()
    _wait_images(driver)
    driver.find_element("id", "btn-pair").click()
    picked = {
        side: (
            Select(driver.find_element("id", f"model-{side}")).first_selected_option.get_attribute("value"),
            Select(driver.find_element("id", f"explainer-{side}")).first_selected_option.get_attribute("value"),
        )
        for side in ("a", "b")
    }
    assert picked == {"a": (CNN, "gradcam"), "b": (VIT, "rollout")}
    for side in ("a", "b"):
        img = driver.find_element("css selector", f"#side-{side} img.map")
        assert driver.execute_script("return arguments[0].naturalWidth", img) > 0
    driver.save_screenshot(str(report / "viewer-pair.png"))
    assert _errors(driver) == []


def test_cases_marked_and_tables_sorted(driver, report):
    cases = _data(report)["cases"]
    driver.find_element("id", "btn-cases").click()
    rows = driver.find_elements("css selector", "table.cases tbody tr")
    assert len(rows) == len(cases)
    outcomes = {c["outcome"] for c in cases}
    assert "xfailed" in outcomes  # rollout ignores the target: a strict known failure
    assert outcomes - {"passed"}, "the run has no failed or xfailed case to mark"
    for outcome in outcomes - {"passed"}:
        marked = driver.find_elements("css selector", f"table.cases tr.outcome-{outcome} .mark.{outcome}")
        assert len(marked) == sum(c["outcome"] == outcome for c in cases)
    # sort by any column: seconds, descending after two clicks
    header = [h for h in driver.find_elements("css selector", "table.cases th") if h.text == "seconds"][0]
    header.click()
    header.click()
    col = [h.text for h in driver.find_elements("css selector", "table.cases th")].index("seconds")
    shown = [
        float(r.find_elements("tag name", "td")[col].text)
        for r in driver.find_elements("css selector", "table.cases tbody tr")
    ]
    assert shown == sorted(shown, reverse=True)
    driver.find_element("id", "btn-run").click()
    for table in ("settings", "versions", "machine"):
        assert driver.find_element("id", f"table-{table}").find_elements("tag name", "tr")
    skipped = driver.find_element("id", "skipped")
    assert skipped.get_attribute("open") is None  # one collapsed list
    assert "--harness-weights" in skipped.get_attribute("textContent")
    driver.find_element("id", "btn-explanations").click()
    driver.save_screenshot(str(report / "viewer.png"))
    assert (report / "viewer.png").stat().st_size > 10_000
    assert _errors(driver) == []
