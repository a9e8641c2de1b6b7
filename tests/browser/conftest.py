"""The browser tests: Debian's Chromium (``chromium`` and ``chromium-driver``) driven by
Selenium against pytest-django's live server. Without Chromium they are skipped, unless
``REQUIRE_BROWSER=1`` (CI) makes that a failure. Each test's screenshots are written to
``data/browser-screenshots/<test name>/`` (git-ignored), one numbered PNG a step."""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(settings.BASE_DIR) / "data" / "browser-screenshots"
_took_screenshots = pytest.StashKey[bool]()


def _missing() -> str | None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (Debian's {package} package)"
    if importlib.util.find_spec("selenium") is None:
        return "the selenium package is not installed"
    return None


@pytest.fixture
def chromium():
    """A headless Chromium of the test's own. Quit when the test ends, while the live server
    still shares the test's database connection with its threads: the browser's keep-alive
    connections end then, not in the middle of a later test."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{missing} and REQUIRE_BROWSER=1")
        pytest.skip(missing)
    from tests.browser.driver import start_chromium

    driver, profile = start_chromium(chromium=CHROMIUM, chromedriver=CHROMEDRIVER)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium, live_server, request):
    """The shared Chromium, cleared of earlier tests' cookies, pointed at the live server,
    saving its screenshots under a folder named for the test."""
    from tests.browser.driver import Browser

    page = Browser(chromium, base_url=live_server.url, screenshots=SCREENSHOTS / request.node.name)
    request.config.stash[_took_screenshots] = True
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot("failed")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Kept on the test for the browser fixture's teardown: a failed test ends on a screenshot.
    report = yield
    if report.when == "call":
        item.report_call = report
    return report


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # The staff account's password is checked on every sign-in; its strength is not tested here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _is_browser_test(report, outcome: str) -> bool:
    """A report that decides a browser test's outcome: its call when it passed, else the
    phase that skipped, failed or errored it."""
    if not report.nodeid.startswith("tests/browser/"):
        return False
    return report.when == "call" if outcome == "passed" else report.when != "teardown"


def pytest_terminal_summary(terminalreporter, config):
    # How many browser tests ran and how they ended: CI's log shows that they really ran.
    counts = {
        outcome: sum(
            1 for r in terminalreporter.stats.get(outcome, []) if _is_browser_test(r, outcome)
        )
        for outcome in ("passed", "failed", "error", "skipped")
    }
    if any(counts.values()):
        terminalreporter.write_line(
            "browser tests: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
        )
    if config.stash.get(_took_screenshots, False):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}/<test name>/")
