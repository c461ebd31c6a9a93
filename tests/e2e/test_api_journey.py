"""National staff make an API token on its page, copy it once, use it, and revoke it; the
API's documentation page renders from this site's own files with no CSP violation."""

import re

import pytest
from playwright.sync_api import expect

from api.models import ApiToken
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
