"""Browser journeys: Playwright driving Debian's Chromium against a live server.

Every page a journey checks with `assert_accessible` is checked at phone (360 px) and desktop
width for serious axe-core violations and sideways scrolling, and its HTML, as the server
sent it, with the W3C Nu HTML checker (tests/e2e/vnu/).
"""

import datetime as dt
import hashlib
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings

from tests.conftest import IN_CI
from tests.e2e.vnu.nu_checker import JAR as NU_JAR
from tests.e2e.vnu.nu_checker import NuChecker

# Debian's Chromium in its headless build (package chromium-headless-shell): the same engine
# without the desktop browser around it, a fifth less CPU for the same journeys than
# `chromium --headless` (86 against 67 CPU-seconds for three journeys here).
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium-headless-shell"))
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
# Set SCREENSHOTS_DIR to keep a picture of every page checked, at each width.
SCREENSHOTS_DIR = os.environ.get("SCREENSHOTS_DIR")


def _static_root_stale() -> list[str]:
    """Static files (ours and the apps') whose collected copy is missing or differs."""
    from django.apps import apps
    from django.contrib.staticfiles.finders import get_finders

    ignored = apps.get_app_config("staticfiles").ignore_patterns  # as collectstatic skips them
    root = Path(settings.STATIC_ROOT)
    if not (root / "staticfiles.json").exists():
        return ["staticfiles.json"]
    stale = []
    for finder in get_finders():
        for path, storage in finder.list(ignored):
            if not _same_bytes(Path(storage.path(path)), root / path):
                stale.append(path)
    return stale


def _same_bytes(source: Path, copy: Path) -> bool:
    return (
        copy.exists()
        and copy.stat().st_size == source.stat().st_size
        and copy.read_bytes() == source.read_bytes()
    )


@pytest.fixture(scope="session")
def live_server(request):
    """The live server, with static files served as in production: by WhiteNoise's middleware
    from STATIC_ROOT, under the manifest's hashed names.

    pytest-django wraps the live server in staticfiles' StaticFilesHandler, which looks files
    up in the source folders by their plain names; the manifest storage links hashed names
    (site.ff2f6c1f040c.css), which are not found there, and the 404 page then fails outside
    the middleware, so every stylesheet was a 500 and the journeys ran unstyled. `make test`
    collects the static files before pytest; a run without them (or with edited sources not
    collected again) stops here with the command to run rather than checking unstyled pages.
    """
    from pytest_django.live_server_helper import LiveServer

    stale = _static_root_stale()
    if stale:
        pytest.fail(
            "Browser tests need the collected static files, and these are missing or out of date: "
            + ", ".join(stale[:5])
            + (" and more" if len(stale) > 5 else "")
            + ". Run `.venv/bin/python manage.py collectstatic --noinput` (make test does)."
        )
    address = (
        request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    server = LiveServer(address, start=False)
    # No static handler in front: requests reach the whole middleware stack, WhiteNoise first.
    server.thread.static_handler = _no_static_handler
    server.start()
    yield server
    server.stop()


def _no_static_handler(application):
    return application


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"needs Chromium at {CHROMIUM} (apt-get install -y chromium-headless-shell; .ci/run does)"
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


def _watch_static(context, failures: list[str]) -> None:
    """Record every static file the browser could not load (an unstyled page still passes
    most checks, and axe would judge contrast without our colours)."""
    static_url = settings.STATIC_URL
    context.on(
        "response",
        lambda response: (
            failures.append(f"{response.status} {response.url}")
            if response.status >= 400 and static_url in response.url
            else None
        ),
    )


def _keep_documents(context) -> None:
    """Keep, on each page, the response that brought its current document: the Nu checker
    reads the HTML as the server sent it (see assert_valid)."""

    def keep(response):
        request = response.request
        if request.is_navigation_request() and request.frame.parent_frame is None:
            request.frame.page.nu_document = response

    context.on("response", keep)


@pytest.fixture(scope="session", autouse=True)
def nu_checker():
    """The Nu HTML checker's service, stopped at the end. It starts as the browser tests
    begin, so that the jar reads its schemas (10-15 s) while the live server and Chromium
    start; without Java, or before npm has fetched the jar, the first page checked says so."""
    if shutil.which("java") and NU_JAR.exists():
        _nu.launch()
    yield _nu
    _nu.stop()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    static_failures: list[str] = []
    _watch_static(context, static_failures)
    _keep_documents(context)
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
    assert not static_failures, f"Static files failed to load: {static_failures}"


def authenticator_next_step(time_machine) -> None:
    """Move this process's clock (the live server's too: a thread here) to the start of the
    next 30-second step, where a person would wait for their app's next code."""
    if time_machine.traveller is None:
        time_machine.move_to(dt.datetime.now(tz=dt.UTC), tick=True)  # real time, ticking
    time_machine.shift(30 - time.time() % 30 + 0.5)


@pytest.fixture
def sign_in(browser, live_server, time_machine):
    """Open a fresh browser context for a person and sign them in through allauth.

    Trainers and staff have an authenticator app (tests/factories.py): the helper answers
    the second step with its current code, as the person would from their phone. Where the
    person would wait for the app's next code (a code works once; one about to change may be
    stale when the server checks it), the clock of this process, the live server's too (a
    thread here), moves on to the next 30-second step instead: the server still checks each
    code against its clock and refuses a used one (tests/members/test_mfa.py).
    """

    def next_code_step() -> None:
        authenticator_next_step(time_machine)

    contexts = []
    codes_used: set[tuple[int, str]] = set()
    csp_errors: list[str] = []
    static_failures: list[str] = []

    from tests.factories import PASSWORD, TOTP_SECRET, totp_code

    def _sign_in(user, *, password=PASSWORD, totp_secret=TOTP_SECRET):
        context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
        _watch_static(context, static_failures)
        _keep_documents(context)
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
        field(page, "Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        if "/accounts/2fa/authenticate/" in page.url:
            assert_accessible(page)
            # A code is checked against its own 30-second step only (no tolerance): one read
            # in the last seconds of a step may be stale when the server sees it.
            if 30 - time.time() % 30 < 3:
                next_code_step()
            code = totp_code(totp_secret)
            if (user.pk, code) in codes_used:  # a code works once: the next one
                next_code_step()
                code = totp_code(totp_secret)
            codes_used.add((user.pk, code))
            field(page, "Code").fill(code)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/accounts/2fa/authenticate/" not in url)
        return page

    yield _sign_in
    for context in contexts:
        context.close()
    assert not csp_errors, f"A page broke its own Content Security Policy: {csp_errors}"
    assert not static_failures, f"Static files failed to load: {static_failures}"


def field(page, label: str):
    """The form control labelled `label`; a required field's label ends in an asterisk."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def assert_styled(page) -> None:
    """Our stylesheets reached the page: the navigation bar has the brand colour of site.css."""
    colour = page.locator("header .navbar").evaluate("element => getComputedStyle(element).backgroundColor")
    assert colour == "rgb(107, 16, 48)", f"{page.url}: site.css did not load (navigation bar is {colour})"


_axe = Axe()
_nu = NuChecker()
# Documents the Nu checker has passed, by digest (tokens aside, see _digest), and pages as the
# browser holds them (scripts' changes included) that axe and the sideways check have passed
# at a width: a page checked twice is checked once, like the sign-in page of every sign-in.
_nu_passed: set[str] = set()
_layout_passed: set[tuple[str, int]] = set()
# What differs between two copies of the same page: the CSRF token, the script nonce and the
# security-key sign-in's WebAuthn challenge (on the authenticator-code page of every sign-in).
_PER_REQUEST = re.compile(r'(name="csrfmiddlewaretoken" value=|nonce=|"challenge": )"[^"]*"')


def _digest(html: str) -> str:
    return hashlib.sha256(_PER_REQUEST.sub(r'\1""', html).encode()).hexdigest()


def assert_accessible(page) -> None:
    """Check the current page at its width and at the other of phone and desktop: no serious
    or critical axe-core violation and no sideways scrolling at either, and valid HTML.
    Leaves the page at the width it had."""
    # A click that navigates returns once the new address is committed: the document may
    # still be loading, and a half-read copy would fail for the part not yet there.
    page.wait_for_load_state("load")
    assert_valid(page)
    digest = _digest(page.content())
    width_then = page.viewport_size
    other = DESKTOP if width_then == PHONE else PHONE
    try:
        for viewport in (width_then, other):
            if (digest, viewport["width"]) in _layout_passed and not SCREENSHOTS_DIR:
                continue
            page.set_viewport_size(viewport)
            assert_fits(page)
            assert_axe_clean(page)
            _layout_passed.add((digest, viewport["width"]))
            if SCREENSHOTS_DIR:
                _screenshot(page)
    finally:
        page.set_viewport_size(width_then)


def assert_axe_clean(page) -> None:
    """Fail on any serious or critical axe-core violation on the current page."""
    # axe-core (570 kB) goes into each document once, not again at the second width.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe.axe_script)
    # Only what a failure reports comes back: axe's whole result (every rule that passed or
    # did not apply, with its tags and text) was serialised by Chromium and checked by
    # Playwright in Python on every run (the crawl: 109 s with it, 83 s without).
    serious = page.evaluate(
        """async options => (await axe.run(document, options)).violations
            .filter(violation => ["serious", "critical"].includes(violation.impact))
            .map(violation => `${violation.id} (${violation.impact}): ${violation.help} at `
                + violation.nodes.slice(0, 3).map(node => JSON.stringify(node.target)).join(", "))""",
        {"resultTypes": ["violations"]},
    )
    width = page.viewport_size["width"]
    assert not serious, f"{page.url} at {width} px: " + "; ".join(serious)


def assert_fits(page) -> None:
    """The page does not scroll sideways at its width (a wide table scrolls in its own box)."""
    wider = page.evaluate(
        """() => {
            const root = document.documentElement;
            if (root.scrollWidth <= root.clientWidth) return null;
            const edge = root.clientWidth;
            const out = [...document.body.querySelectorAll("*")]
                .filter((element) => element.getBoundingClientRect().right > edge + 1)
                .filter((element) => !element.parentElement
                    || element.parentElement.getBoundingClientRect().right <= edge + 1)
                .slice(0, 5)
                .map((element) => element.tagName.toLowerCase()
                    + (element.id ? "#" + element.id : "")
                    + (element.className && typeof element.className === "string"
                        ? "." + element.className.trim().split(/\\s+/).join(".") : "")
                    + " (" + Math.round(element.getBoundingClientRect().right) + " px)");
            return {scroll: root.scrollWidth, client: edge, out};
        }"""
    )
    assert wider is None, (
        f"{page.url} scrolls sideways at {page.viewport_size['width']} px: "
        f"{wider['scroll']} px wide in {wider['client']} px; sticking out: {', '.join(wider['out'])}"
    )


def assert_valid(page) -> None:
    """The W3C Nu HTML checker finds no error in the current page's HTML.

    It reads the HTML the server sent for the page, not the browser's serialisation of its
    DOM (page.content()): the parser silently repairs much of what makes a document invalid
    (a form inside a form, a duplicate attribute, a stray end tag), so its copy would hide
    exactly what we want to find, and scripts' changes to the DOM are not our templates'.
    Where the server's copy is not at hand (a page opened in a context the fixtures did not
    make, or changed by script without a new document), the browser's copy is checked.
    """
    html, source = _document_html(page)
    digest = _digest(html)
    if digest in _nu_passed:
        return
    errors = _nu.errors(html)
    assert not errors, f"{page.url} is not valid HTML ({source}):\n  " + "\n  ".join(map(str, errors))
    _nu_passed.add(digest)


def _document_html(page) -> tuple[str, str]:
    from playwright.sync_api import Error

    response = getattr(page, "nu_document", None)
    if (
        response is not None
        and urldefrag(response.url).url == urldefrag(page.url).url
        and "text/html" in response.headers.get("content-type", "")
    ):
        try:
            return response.text(), "as the server sent it"
        except Error:  # the browser no longer holds the body
            pass
    return page.content(), "the browser's copy"


def _screenshot(page) -> None:
    folder = Path(SCREENSHOTS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = urldefrag(page.url).url.split("//", 1)[-1].split("/", 1)[-1]
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    page.screenshot(path=str(folder / f"{name or 'home'}-{page.viewport_size['width']}.png"), full_page=True)
