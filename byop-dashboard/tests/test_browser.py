"""The dashboard in a real browser: headless Chromium, driven through chromedriver.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and selenium.
Without them the tests skip, unless ``BYOP_REQUIRE_SERVICES=1`` (CI), where they fail. Set
``BYOP_SCREENSHOTS=DIR`` to keep the screenshots the tests take.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REQUIRE = os.environ.get("BYOP_REQUIRE_SERVICES") == "1"
FLAGS = [
    "--headless",
    "--no-sandbox",  # as root, in a container
    "--disable-gpu",
    "--enable-unsafe-swiftshader",  # WebGL (parallel coordinates) on the CPU
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install {package})"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if REQUIRE:
            pytest.fail(f"BYOP_REQUIRE_SERVICES=1 but the browser tests cannot run: {missing}")
        pytest.skip(f"needs headless Chromium: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="byop-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def shots(tmp_path):
    directory = Path(os.environ.get("BYOP_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)

    def take(driver, name, *, full=False):
        if full:
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1400, min(int(height), 6000))
        path = directory / f"{name}.png"
        driver.save_screenshot(str(path))
        driver.set_window_size(1400, 1000)
        assert path.stat().st_size > 10_000  # a page, not a blank
        return path

    return take


def errors(driver):
    """Console errors since the last call (warnings of the software WebGL aside)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait(driver, condition, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def trial_count(driver):
    text = driver.find_element("id", "trial-count").text.strip("()")
    return int(text.split(" of ")[-1]) if text else 0


class LiveRun:
    """A run being written: a trial every ``pace`` seconds until stopped."""

    def __init__(self, writer, pace=0.05):
        self.writer = writer
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._write, args=(pace,), daemon=True)
        self.thread.start()

    def _write(self, pace):
        while not self.stop.wait(pace):  # the pace of a run, not a wait for a result
            self.writer.report(1)

    def finish(self):
        self.stop.set()
        self.thread.join(timeout=30)
        self.writer.end()


def test_a_live_run_in_the_browser(browser, serve, api, finished, tmp_path, shots):
    from selenium.webdriver.common.by import By

    path = tmp_path / "live.jsonl"
    writer = api.Writer(path)
    writer.report(12)
    dashboard = serve(finished, path)
    live = LiveRun(writer)
    try:
        browser.get(dashboard.url)
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#runs tbody tr")) == 2)
        states = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#runs .badge")]
        assert states == ["finished", "running"]
        shots(browser, "index")

        browser.get(dashboard.url + "runs/1")
        wait(browser, lambda d: trial_count(d) >= 12)
        first = trial_count(browser)
        wait(browser, lambda d: trial_count(d) >= first + 10)  # it grows by itself
        assert browser.find_element(By.ID, "state").text == "running"
        # Every plot is drawn by plotly.
        for kind in ("history", "parallel", "importance", "pareto", "slice"):
            card = browser.find_element(By.CSS_SELECTOR, f'.plot-card[data-kind="{kind}"]')
            browser.execute_script("arguments[0].scrollIntoView()", card)
            wait(browser, lambda d, c=card: c.find_elements(By.CSS_SELECTOR, ".main-svg"))
            assert "failed" not in card.find_element(By.CLASS_NAME, "plot-note").text
        browser.execute_script("window.scrollTo(0, 0)")
        shots(browser, "run-live", full=True)
    finally:
        live.finish()
    wait(browser, lambda d: d.find_element(By.ID, "state").text == "finished")
    wait(browser, lambda d: trial_count(d) == writer.count)
    assert not errors(browser)


def test_the_table_sorts_filters_and_shows_failures(browser, serve, api, finished, shots):
    from selenium.webdriver.common.by import By

    dashboard = serve(finished)
    browser.get(dashboard.url + "runs/0")
    wait(browser, lambda d: trial_count(d) == 60)

    def column(label):
        headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#trials th")]
        index = headers.index(label)
        cells = browser.find_elements(By.CSS_SELECTOR, f"#trials tbody td:nth-child({index + 1})")
        return [c.get_attribute("textContent") for c in cells]

    def sort_by(label):
        header = next(
            th for th in browser.find_elements(By.CSS_SELECTOR, "#trials th") if th.text == label
        )
        browser.execute_script("arguments[0].click()", header)

    sort_by("cost")
    costs = [float(c) for c in column("cost") if c]
    assert costs == sorted(costs) and len(costs) > 10
    sort_by("cost")
    descending = [float(c) for c in column("cost") if c]
    assert descending == sorted(descending, reverse=True)
    assert descending[0] == max(descending) >= costs[-1]

    # A config value that is HTML shows as text, and runs nothing.
    kinds = set(column("kind"))
    browser.find_element(By.ID, "next").click()
    kinds |= set(column("kind"))
    assert api.EVIL in kinds or api.EVIL_IMG in kinds
    assert browser.execute_script("return window.__pwned") is None
    assert not browser.find_elements(By.CSS_SELECTOR, "#trials img")

    # Filtering by status, then a failure's details: its exception and traceback.
    browser.find_element(By.CSS_SELECTOR, '#status-filter option[value="fail"]').click()
    statuses = set(column("status"))
    assert statuses == {"fail"}
    browser.find_element(By.CSS_SELECTOR, "#trials tbody tr").click()
    wait(browser, lambda d: d.find_element(By.ID, "detail").is_displayed())
    body = browser.find_element(By.ID, "detail-body").text
    assert "Traceback" in body and "ValueError" in body and api.EVIL in body
    shots(browser, "trial-detail")
    browser.find_element(By.ID, "detail-close").click()

    # Filtering by text.
    browser.find_element(By.CSS_SELECTOR, '#status-filter option[value=""]').click()
    search = browser.find_element(By.ID, "filter")
    search.send_keys("MemoryError")
    wait(browser, lambda d: set(column("status")) == {"crashed"})
    assert not errors(browser)


def test_a_damaged_store_in_the_browser(browser, serve, finished, tmp_path, shots):
    from selenium.webdriver.common.by import By

    damaged = tmp_path / "damaged.jsonl"
    lines = finished.read_bytes().split(b"\n")
    lines[7] = b"%% not json %%"
    damaged.write_bytes(b"\n".join(lines) + b'{"kind":"repo')
    dashboard = serve(damaged)
    browser.get(dashboard.url + "runs/0")
    wait(browser, lambda d: d.find_element(By.ID, "problems").is_displayed())
    problems = browser.find_element(By.ID, "problems").text
    assert "line 8: skipped a damaged record" in problems and "torn" in problems
    assert trial_count(browser) > 50
    shots(browser, "damaged")
    assert not errors(browser)
