"""Debian's headless Chromium for the browser tests (the report viewer, the explore app)."""

from __future__ import annotations

import shutil

SKIP_REASON = (
    "no headless browser here: install Debian's chromium and chromium-driver "
    "(apt-get install chromium chromium-driver; .ci/run does it when missing)"
)


def find_browser() -> tuple[str, str] | None:
    """(chromium binary, chromedriver), or None where either is missing."""
    binary = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver")
    return (binary, driver) if binary and driver else None


def headless_chrome(*, window: str, browser_log: bool = False):
    """A Selenium driver on headless Chromium at ``window`` (``"W,H"``); ``browser_log`` keeps the console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    assert found is not None, SKIP_REASON
    binary, chromedriver = found
    opts = Options()
    opts.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={window}",
    ):
        opts.add_argument(arg)
    if browser_log:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=opts)
