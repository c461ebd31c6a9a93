"""Every page each demo login reaches from the menu, and two links further, is valid HTML (W3C
Nu checker), free of serious axe-core violations and fits a 360 px phone as well as a desktop;
and the menu itself marks the current section and closes with Escape on a phone."""

import re
import time
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from members.models import User
from members.permissions import Role
from members.seeding import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.e2e.conftest import PHONE, assert_accessible
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each role's demo login (seeds/demo/people.json): a page pattern another login has already
# checked is not checked again. The trainer (a trainee too) runs cohorts: first, so that the
# cap leaves room for sessions' pages.
DEMO_LOGINS = [
    "trainer@demo.futureleaders.example",
    "staff@demo.futureleaders.example",
    "trainee@demo.futureleaders.example",
    "regional@demo.futureleaders.example",
]
PAGES_PER_LOGIN = 40
LINKS_FOLLOWED = 2  # levels below the menu
# Links not followed: signing out, files rather than pages, links that act or lead to a form
# whose only purpose is to destroy or change something at once, Django's own admin, and the
# API's Swagger UI (a third party's page, drawn by its script after load; test_api_journey.py opens it).
SKIPPED = re.compile(
    r"/accounts/logout/|/admin/|/api/|/download/|/export|\.(csv|ics|pdf|json|jwt|png)$|/calendar/feed/"
    r"|/emails/(stop|reply)/|/(delete|erase|revoke|withdraw|cancel|rotate|pause|resume|send-again"
    r"|publish|move|deactivate|generate)/|[?&]format=(csv|xlsx|json)"
)


def pattern_of(path: str) -> str:
    """A page's path with its ids replaced: one cohort page stands for all of them."""
    return re.sub(r"/\d+(?=/|$)", "/<id>", path)


def links_from(page, selector: str, origin: str) -> list[str]:
    """Same-origin links under `selector`, as paths with their query, in page order."""
    hrefs = page.eval_on_selector_all(f"{selector} a[href]", "links => links.map(link => link.href)")
    paths = []
    for href in hrefs:
        url = urldefrag(href).url
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIPPED.search(path):
            continue
        paths.append(path)
    return paths


def test_every_page_each_demo_login_reaches_is_valid_accessible_and_fits_a_phone(
    sign_in, live_server, settings
):
    settings.DEMO_MODE = True
    call_command("load_seeds", "--demo", verbosity=0)
    origin = live_server.url
    checked: dict[str, str] = {}  # pattern -> the page that stood for it
    failures: list[str] = []
    started = time.monotonic()

    def open_page(page, path: str) -> bool:
        """Open `path`; False for a file behind a plain link, or an error status (recorded)."""
        try:
            response = page.goto(path)
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                return False
            raise
        if response is None or response.status != 200:
            failures.append(f"{path}: status {response.status if response else 'none'}")
            return False
        return True

    for email in DEMO_LOGINS:
        page = sign_in(User.objects.get(email=email), password=DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
        # The menu's pages first, then the pages they link to, then the pages those link to
        # (a cohort's page from the list of cohorts, its session's check-in code from there).
        # A pattern another login checked is opened only to follow its links.
        level = [urlsplit(page.url).path, *links_from(page, "header nav", origin)]
        seen_here: set[str] = set()
        checked_here = 0
        for depth in range(LINKS_FOLLOWED + 1):
            below: list[str] = []
            for path in level:
                pattern = pattern_of(urlsplit(path).path)
                if pattern in seen_here or checked_here >= PAGES_PER_LOGIN:
                    continue
                seen_here.add(pattern)
                is_new = pattern not in checked
                if not is_new and depth == LINKS_FOLLOWED:
                    continue
                if not open_page(page, path):
                    continue
                if is_new:
                    checked[pattern] = path
                    checked_here += 1
                    try:
                        assert_accessible(page)
                    except AssertionError as error:
                        failures.append(str(error).split("\nassert ")[0])
                below += links_from(page, "main", origin)
            level = below
        page.context.close()

    print(
        f"\nCrawl: {len(checked)} page patterns in {time.monotonic() - started:.0f} s:",
        *sorted(checked),
        sep="\n  ",
    )
    assert len(checked) >= 40, f"the crawl reached only {sorted(checked)}"
    assert not failures, f"{len(failures)} of {len(checked)} pages failed:\n" + "\n".join(failures)


def test_the_menu_marks_the_current_section(sign_in):
    """The menu link of the section the page is in carries aria-current="page" and is
    underlined; a page deeper in the section marks it too."""
    page = sign_in(UserFactory(role=Role.NATIONAL_STAFF))
    menu = page.get_by_role("navigation", name="Main")
    page.goto("/manage/programmes/")
    current = menu.locator("[aria-current]")
    expect(current).to_have_count(1)
    expect(current).to_have_text("Programmes")
    expect(current).to_have_attribute("aria-current", "page")
    assert "underline" in current.evaluate("link => getComputedStyle(link).textDecorationLine")
    page.goto("/manage/audit/")  # in the Staff menu: its toggle says the page is one of its own
    expect(menu.locator("[aria-current]")).to_have_text("Staff")
    expect(menu.locator("[aria-current]")).to_have_attribute("aria-current", "true")


def test_the_phone_menu_closes_with_escape_and_gives_the_focus_back(sign_in):
    """On a phone the menu opens from its button, closes with Escape, and the focus returns to
    the button; an open dropdown inside it takes the first Escape."""
    page = sign_in(UserFactory(role=Role.TRAINEE))
    page.set_viewport_size(PHONE)
    toggle = page.get_by_role("button", name="Show the menu")
    links = page.locator("#main-nav")
    toggle.click()
    expect(links).to_have_class(re.compile(r"\bshow\b"))
    links.get_by_role("link", name="Find a cohort").focus()
    page.keyboard.press("Escape")
    expect(links).not_to_be_visible()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.click()
    expect(links).to_have_class(re.compile(r"\bshow\b"))
    account = links.get_by_role("button", name="Account")
    account.click()
    expect(links.get_by_role("link", name="Profile")).to_be_visible()
    page.keyboard.press("Escape")  # closes the Account dropdown, not the menu
    expect(links.get_by_role("link", name="Profile")).not_to_be_visible()
    expect(links).to_be_visible()
    page.keyboard.press("Escape")
    expect(links).not_to_be_visible()
    expect(toggle).to_be_focused()
