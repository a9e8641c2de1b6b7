"""Debian's Chromium, headless, driven through Selenium: the browser the staff's pages are
tested in. Imported by the conftest only once it knows Chromium and Selenium are there."""

import json
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT_SECONDS = 10

# Headless, and quiet: without the background services Chromium would try to reach Google's
# servers (sign-in, updates, field trials), which this suite must not depend on.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1920,1080",
)


def start_chromium(*, chromium: str, chromedriver: str) -> tuple[webdriver.Chrome, str]:
    """A fresh headless Chromium that records its network requests; and its profile
    directory, for the caller to delete after ``quit()``."""
    profile = tempfile.mkdtemp(prefix="journal-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # The DevTools performance log holds every Network.requestWillBeSent event.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=options), profile


class Browser:
    """One test's view of the shared Chromium: what a person does (open, click, type,
    read) with explicit waits, and a numbered screenshot of each step."""

    def __init__(self, driver: webdriver.Chrome, *, base_url: str, screenshots: Path):
        self.driver = driver
        self.base_url = base_url
        self.screenshots = screenshots
        self._shots = 0
        self._requested: list[str] = []
        shutil.rmtree(screenshots, ignore_errors=True)
        screenshots.mkdir(parents=True)
        # A clean slate: no cookie or stored state of an earlier test, no request of its.
        driver.get(base_url + "/healthz")
        driver.delete_all_cookies()
        driver.execute_script("window.localStorage.clear(); window.sessionStorage.clear();")
        driver.get_log("performance")

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str):
        """The first element matching ``css`` once it is visible."""
        wait = WebDriverWait(self.driver, WAIT_SECONDS)
        return wait.until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def columns(self, *names: str) -> list[tuple[str, ...]]:
        """What an admin changelist shows in its ``names`` columns, a tuple a row."""
        self.find("#result_list")
        return [
            tuple(row.find_element(By.CSS_SELECTOR, f".field-{name}").text for name in names)
            for row in self.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        ]

    def click(self, css: str) -> None:
        wait = WebDriverWait(self.driver, WAIT_SECONDS)
        wait.until(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    def click_link(self, text: str) -> None:
        """Follow the link whose text is ``text`` and wait for the page it leads to."""
        link = WebDriverWait(self.driver, WAIT_SECONDS).until(
            expected_conditions.element_to_be_clickable((By.LINK_TEXT, text))
        )
        link.click()
        WebDriverWait(self.driver, WAIT_SECONDS).until(expected_conditions.staleness_of(link))

    def fill(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def choose(self, css: str, visible_text: str) -> None:
        Select(self.find(css)).select_by_visible_text(visible_text)

    def submit(self, css: str) -> None:
        """Press the button ``css`` and wait for the page the form leads to."""
        button = self.find(css)
        button.click()
        WebDriverWait(self.driver, WAIT_SECONDS).until(expected_conditions.staleness_of(button))

    def wait_for_text(self, text: str, css: str = "body") -> str:
        """The text of the first ``css`` element once it contains ``text``."""
        wait = WebDriverWait(self.driver, WAIT_SECONDS)
        wait.until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def text(self, css: str = "body") -> str:
        return self.find(css).text

    def screenshot(self, step: str, *, showing: str | None = None) -> Path:
        """Save the window as the test's next numbered PNG, scrolled to ``showing`` if set."""
        if showing is not None:
            self.driver.execute_script(
                "arguments[0].scrollIntoView({block: 'center'})", self.find(showing)
            )
        self._shots += 1
        path = self.screenshots / f"{self._shots:02d}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path

    def requested_urls(self) -> list[str]:
        """The URLs of every request the browser made in this test so far."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self._requested.append(message["params"]["request"]["url"])
            elif message["method"] == "Network.webSocketCreated":
                self._requested.append(message["params"]["url"])
        return list(self._requested)

    def foreign_requests(self) -> list[str]:
        """The requests of this test so far that went anywhere but to the app under test
        (``data:`` and ``blob:`` URLs are made in the page itself)."""
        own = urlsplit(self.base_url)
        return [
            url
            for url in self.requested_urls()
            if urlsplit(url).scheme not in ("data", "blob")
            and (urlsplit(url).scheme, urlsplit(url).netloc) != (own.scheme, own.netloc)
        ]
