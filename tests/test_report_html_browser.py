"""index.html in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium): opened from the file system, every image rendered, every table has its rows,
clicking a header sorts, no console error, no injected script ran; a screenshot is kept
under the test's tmp_path and $PYTEST_ARTIFACTS (default tests/artifacts/).

Skipped where the browser or selenium is absent, except in CI (CI set), which installs them
(.ci/run) and must run it."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from test_report_html import report_tree

from deepal_bench.cli.report import main

ARTIFACTS = Path(os.environ.get("PYTEST_ARTIFACTS") or Path(__file__).parent / "artifacts")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1600",
]


def _needed(found: object, what: str) -> None:
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing in CI (.ci/run installs it)")
        pytest.skip(f"{what} is not installed")


@pytest.fixture
def browser(tmp_path, monkeypatch):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    _needed(chromium and driver_path, "chromium / chromedriver (apt-get install chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    _needed(webdriver, "selenium (the dev extra)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*FLAGS, f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def _column(driver, table, name: str) -> list[str]:
    """The cells of column `name` of `table`, top to bottom."""
    return driver.execute_script(
        "const [table, name] = arguments;"
        "const k = Array.from(table.tHead.rows[0].cells).findIndex(c => c.textContent === name);"
        "return Array.from(table.tBodies[0].rows).map(r => r.cells[k].textContent);",
        table,
        name,
    )


def _header(table, name: str):
    from selenium.webdriver.common.by import By

    return next(th for th in table.find_elements(By.CSS_SELECTOR, "thead th") if th.text == name)


def _screenshot(driver, tmp_path: Path) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(height, 4000))
    shot = tmp_path / "report_html.png"
    assert driver.save_screenshot(str(shot))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / shot.name)
    return shot


@pytest.mark.slow
def test_the_page_renders_sorts_and_logs_no_error_in_chromium(browser, tmp_path):
    from selenium.webdriver.common.by import By

    root = report_tree(tmp_path / "runs")
    out = tmp_path / "report"
    assert main([str(root), "--out", str(out)]) == 0
    browser.get((out / "index.html").as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
    )
    assert len(images) == len(list((out / "figures").glob("*.png")))
    assert all(complete and width > 0 for complete, width in images), images
    tables = browser.find_elements(By.CSS_SELECTOR, "table.sortable")
    rows = [len(t.find_elements(By.CSS_SELECTOR, "tbody tr")) for t in tables]
    assert len(tables) > 10 and all(rows), rows
    assert browser.execute_script("return document.scripts.length") == 1

    # the AUBC table of the setting with margin: entropy, margin, random (best AUBC first)
    table = next(t for t in tables if "Query s/round" in t.text and "margin" in t.text)
    assert _column(browser, table, "strategy") == ["entropy", "margin", "random"]
    _header(table, "Total s").click()  # 4.3 s, 5.3 s, 7.3 s per trial
    assert _column(browser, table, "strategy") == ["random", "margin", "entropy"]
    assert _header(table, "Total s").get_attribute("aria-sort") == "ascending"
    _header(table, "AUBC").click()
    _header(table, "AUBC").click()  # descending
    assert _column(browser, table, "strategy") == ["entropy", "margin", "random"]
    _header(table, "strategy").click()
    assert _column(browser, table, "strategy") == ["entropy", "margin", "random"]

    assert _screenshot(browser, tmp_path).stat().st_size > 10_000
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
