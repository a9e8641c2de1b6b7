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


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium shared by the browser tests."""
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


def pytest_terminal_summary(terminalreporter, config):
    if config.stash.get(_took_screenshots, False):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}/<test name>/")
