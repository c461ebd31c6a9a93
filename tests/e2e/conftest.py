"""Browser journeys: Playwright driving Debian's Chromium against a live server."""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import IN_CI

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Flags that keep Chromium quiet on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"needs Chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run does)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make between browser steps are still synchronous, so Django may allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.csp_errors = csp_errors
    yield page
    context.close()
    assert not csp_errors, f"The page broke its own Content Security Policy: {csp_errors}"


@pytest.fixture
def sign_in(browser, live_server):
    """Open a fresh browser context for a person and sign them in through allauth."""
    contexts = []
    csp_errors: list[str] = []

    from tests.factories import PASSWORD

    def _sign_in(user):
        context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                csp_errors.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto("/accounts/login/")
        assert_accessible(page)
        field(page, "Email").fill(user.email)
        field(page, "Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield _sign_in
    for context in contexts:
        context.close()
    assert not csp_errors, f"A page broke its own Content Security Policy: {csp_errors}"


def field(page, label: str):
    """The form control labelled `label`; a required field's label ends in an asterisk."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


_axe = Axe()


def assert_accessible(page) -> None:
    """Fail on any serious or critical axe-core violation on the current page."""
    results = _axe.run(page)
    serious = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert not serious, f"{page.url}: " + "; ".join(serious)
