"""National staff make an API token on its page, copy it once, use it, and revoke it; the
API's documentation page renders from this site's own files with no CSP violation."""

import re

import pytest
from playwright.sync_api import expect

from api.models import ApiToken
from api.page_views import PER_PAGE as PAGE_SIZE
from api.services import api_token_create
from members.permissions import Role
from tests.e2e.conftest import assert_accessible, assert_styled, field
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_make_use_and_revoke_a_token(sign_in, live_server):
    staff = UserFactory(role=Role.NATIONAL_STAFF, email="nadia@example.org")
    page = sign_in(staff)
    page.goto("/manage/api-tokens/")
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    assert_styled(page)
    assert_accessible(page)

    field(page, "Name").fill("Membership sync")
    page.get_by_label("Read only").check()
    page.get_by_label("Registry").check()
    page.get_by_role("button", name="Create token").click()
    raw = page.get_by_role("textbox", name="Token").input_value()
    assert raw.startswith("fl_")
    assert_accessible(page)

    # Used by another system: no cookie, only the token.
    other = page.context.browser.new_context(base_url=live_server.url)
    try:
        response = other.request.get("/api/v1/registry/", headers={"Authorization": f"Bearer {raw}"})
        assert response.status == 200
        # Shown once: the list names the token, never shows it again.
        page.goto("/manage/api-tokens/")
        expect(page.get_by_role("row", name=re.compile("Membership sync"))).to_be_visible()
        assert raw not in page.content()

        row = page.get_by_role("row", name=re.compile("Membership sync"))
        row.get_by_role("button", name=re.compile(r"^Revoke")).click()
        expect(page.get_by_role("row", name=re.compile("Membership sync"))).to_contain_text("Revoked")
        response = other.request.get("/api/v1/registry/", headers={"Authorization": f"Bearer {raw}"})
        assert response.status == 401
    finally:
        other.close()
    assert ApiToken.objects.get().revoked_at is not None


def test_the_documentation_page_renders_without_breaking_the_csp(page):
    """The `page` fixture fails the test on any Content Security Policy report in the console."""
    page.goto("/api/v1/docs/")
    # Swagger UI's bundle is large: give it time to start on a busy machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Future Leaders API", timeout=30_000)
    expect(page.locator(".opblock-summary-path").filter(has_text="/api/v1/cohorts/").first).to_be_visible()
    assert page.csp_errors == []


def test_the_token_list_is_a_styled_table_whose_region_and_pages_show_the_focus_ring(sign_in, live_server):
    """The list has the site's table classes (it once lost them with its own Meta missing);
    the keyboard reaches its scrolling region and its page links, each ringed as every control
    is (Bootstrap's faint blue glow on page links hid the focus)."""
    staff = UserFactory(role=Role.NATIONAL_STAFF, email="nadia@example.org")
    for number in range(PAGE_SIZE + 1):
        api_token_create(
            user=staff, name=f"Sync {number}", access="read", resources=["cohorts"], expires_in_days=30
        )
    page = sign_in(staff)
    page.goto("/manage/api-tokens/")
    table = page.get_by_role("table", name="Your tokens, page 1 of 2")
    expect(table).to_have_class(re.compile(r"\btable\b"))
    assert_accessible(page)

    region = page.get_by_role("region", name="Your tokens, page 1 of 2")
    next_page = page.get_by_role("link", name="Next")
    for target in (region, next_page):
        _tab_to(page, target)
        assert target.evaluate("element => getComputedStyle(element).outlineColor") == FOCUS_RING


FOCUS_RING = "rgb(255, 191, 71)"  # --fl-focus in static/css/site.css


def _tab_to(page, target, presses: int = 200) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("The keyboard never reached it")
