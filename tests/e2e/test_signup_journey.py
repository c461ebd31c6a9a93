"""A new member signs up, confirms, consents, completes the profile and lands home."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from members.models import Constituency
from tests.e2e.conftest import PHONE, assert_accessible, field

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "journey@example.org"
PASSWORD = "a-long-and-unusual-passphrase"


def test_new_member_journey(page, live_server):
    """The whole first visit works in a browser, and every page passes axe-core."""
    call_command("load_seeds", verbosity=0)
    seat = Constituency.objects.select_related("region").first()

    page.goto("/")
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name="Sign up").click()

    page.wait_for_url("**/accounts/signup/")
    assert_accessible(page)
    field(page, "Email").fill(EMAIL)
    field(page, "Password").fill(PASSWORD)
    field(page, "Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    page.wait_for_url("**/accounts/confirm-email/")
    assert_accessible(page)
    message = next(m for m in mail.outbox if m.to == [EMAIL])
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)

    page.goto(path)
    assert_accessible(page)
    page.get_by_role("button", name="Confirm").click()

    page.wait_for_url("**/welcome/consent/")
    assert_accessible(page)
    page.get_by_role("button", name="I agree and continue").click()
    expect(page.get_by_text("You need to agree before you can use Future Leaders.")).to_be_visible()
    page.get_by_label(re.compile(r"I agree to Future Leaders processing my data")).check()
    page.get_by_role("button", name="I agree and continue").click()

    page.wait_for_url("**/profile/")
    assert_accessible(page)
    field(page, "First name").fill("Rosa")
    field(page, "Last name").fill("Jones")
    field(page, "Region or nation").select_option(label=seat.region.name)
    field(page, "Constituency").select_option(label=seat.name)
    field(page, "Phone (optional)").fill("not a phone")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Enter a valid phone number")).to_be_visible()
    assert_accessible(page)
    field(page, "Phone (optional)").fill("020 7946 0456")
    page.get_by_role("button", name="Save profile").click()

    page.wait_for_url("**/my-training/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rosa")
    assert_accessible(page)

    page.set_viewport_size(PHONE)
    page.reload()
    assert_accessible(page)
    # On a phone the menu folds behind a button that still opens it.
    page.get_by_role("button", name="Show the menu").click()
    # Bootstrap's collapse animates (class "collapsing") before it is shown; a click on the
    # Account menu in the middle of it was sometimes lost under load.
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    page.get_by_role("navigation").get_by_role("button", name="Account").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Profile", exact=True)).to_be_visible()


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(page, live_server):
    """Keyboard users reach a visible skip link first, and it takes them to the content."""
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
