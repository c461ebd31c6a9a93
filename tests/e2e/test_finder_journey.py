"""A visitor finds a cohort without an account, signs up from it and applies, in a browser.

Set FINDER_SCREENSHOTS=/some/dir to keep screenshots of the home page and the finder at
1280 and 360 px wide.
"""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from members.models import Constituency, Region
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible, field
from tests.factories import CohortFactory, SessionFactory
from training.models import Enrolment, EnrolmentStatus, SessionMode

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "finder@example.org"
PASSWORD = "a-long-and-unusual-passphrase"
SHOTS = os.environ.get("FINDER_SCREENSHOTS")


def _fits_and_shoot(page, name: str) -> None:
    """At desktop and phone width: axe-clean, nothing scrolls sideways; a screenshot if asked."""
    for size, label in ((DESKTOP, "1280"), (PHONE, "360")):
        page.set_viewport_size(size)
        assert_accessible(page)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {label} px"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_visitor_finds_a_cohort_signs_up_and_applies(page, live_server):
    call_command("load_seeds", verbosity=0)
    region = Region.objects.filter(constituencies__isnull=False).order_by("name").first()
    seat = Constituency.objects.filter(region=region).order_by("name").first()
    cohort = CohortFactory(name="Organising in " + region.name, region=region, constituency=seat)
    SessionFactory(cohort=cohort, title="One-to-ones", venue="Friends Meeting House")
    online = CohortFactory(name="Online evenings", region=region)
    SessionFactory(
        cohort=online, mode=SessionMode.ONLINE, venue="", address="", online_link="https://meet.example.org/x"
    )
    CohortFactory(name="Elsewhere", region=Region.objects.exclude(pk=region.pk).order_by("name").first())

    # The home page asks where the visitor is, and shows the cohorts there.
    page.goto("/")
    field(page, "Your region or nation").select_option(label=region.name)
    page.get_by_role("button", name="Show cohorts near me").click()
    expect(page.get_by_role("link", name=cohort.name)).to_be_visible()
    expect(page.get_by_role("link", name="Elsewhere")).to_have_count(0)
    _fits_and_shoot(page, "home")

    # The finder: the constituency list narrows to the region chosen.
    page.goto("/cohorts/")
    field(page, "Region or nation").select_option(label=region.name)
    seats = page.locator("select[name=constituency] option")
    expect(seats).to_have_count(Constituency.objects.filter(region=region).count() + 1)
    field(page, "How it meets").select_option(label="Online")
    page.get_by_role("button", name="Find cohorts").click()
    expect(page.get_by_role("link", name="Online evenings")).to_be_visible()
    expect(page.get_by_role("link", name=cohort.name)).to_have_count(0)
    field(page, "How it meets").select_option(label="Any way")
    field(page, "Constituency").select_option(label=seat.name)
    page.get_by_role("button", name="Find cohorts").click()
    expect(page.get_by_role("link", name=cohort.name)).to_be_visible()
    _fits_and_shoot(page, "finder")

    page.get_by_role("link", name=cohort.name).click()
    expect(page.get_by_text("Friends Meeting House")).to_be_visible()
    _fits_and_shoot(page, "cohort")
    page.get_by_role("link", name="Sign up and apply").click()

    page.wait_for_url("**/accounts/signup/**")
    field(page, "Email").fill(EMAIL)
    field(page, "Password").fill(PASSWORD)
    field(page, "Password (again)").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^sign up$", re.IGNORECASE)).click()
    page.wait_for_url("**/accounts/confirm-email/")
    message = next(m for m in mail.outbox if m.to == [EMAIL])
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)
    page.goto(path)
    page.get_by_role("button", name=re.compile("^confirm$", re.IGNORECASE)).click()

    page.wait_for_url("**/welcome/consent/")
    page.get_by_label(re.compile(r"I agree to Future Leaders processing my data")).check()
    page.get_by_role("button", name="I agree and continue").click()
    page.wait_for_url("**/profile/")
    field(page, "First name").fill("Ada")
    field(page, "Last name").fill("Jones")
    # A constituency chosen first picks its region.
    field(page, "Constituency").select_option(label=seat.name)
    expect(field(page, "Region or nation")).to_have_value(str(region.pk))
    page.get_by_role("button", name="Save profile").click()

    page.wait_for_url(f"**/cohorts/{cohort.pk}/apply/")
    assert_accessible(page)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/my-training/")
    expect(page.get_by_text(f"You’re enrolled in {cohort.name}.")).to_be_visible()
    assert Enrolment.objects.get(member__email=EMAIL).status == EnrolmentStatus.ENROLLED
