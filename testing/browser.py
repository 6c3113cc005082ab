"""A headless Chromium for the status page's browser test: Debian's `chromium` driven by
Debian's `chromium-driver` through Selenium, with no download of either (`.ci/run` installs
both). Missing, the test is skipped, which CI=true turns into a failure (tests/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER = "/usr/bin/chromedriver"


def binary() -> str | None:
    return next((p for p in CHROMIUM if Path(p).exists()), None) or shutil.which("chromium")


@contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator[object]:
    """A Selenium WebDriver on headless Chromium; skips the test when either is missing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = binary()
    if found is None or not Path(DRIVER).exists():
        pytest.skip(
            "Debian's chromium and chromium-driver are missing: apt-get install chromium chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = found
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
