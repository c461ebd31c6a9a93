"""National staff open the dashboard: the headline and the chart, a region's constituencies,
a cohort at risk, the CSV; a certificate issued in another tab raises the count on reload."""

import csv
import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from certification.models import TargetScope
from certification.services.certificates import certificate_issue_manually
from certification.services.targets import target_create
from members.models import Region
from members.permissions import Role
from members.signals import member_place_changed_announce
from tests.e2e.conftest import PHONE, assert_accessible, assert_styled
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from training.models import CohortStatus, EnrolmentStatus

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _member(region):
    member = UserFactory(role=Role.TRAINEE)
    member.profile.region = region
    member.profile.save()
    member_place_changed_announce(user_ids=[member.pk])  # as profile_save does
    return member


def _certify(member, cohort, staff):
    enrolment = EnrolmentFactory(cohort=cohort, member=member, status=EnrolmentStatus.COMPLETED)
    return certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Paper register.")


def test_staff_read_the_dashboard_and_follow_its_figures(sign_in, browser, live_server):
    call_command("load_seeds", verbosity=0)
    north_east = Region.objects.get(ons_code="E12000001")
    # With the admin too, as the demo's national staff: the longest menu there is.
    staff = UserFactory(role=Role.NATIONAL_STAFF, first_name="Nadia", last_name="Osei", is_staff=True)
    today = timezone.localdate()
    finished = CohortFactory(name="Durham, spring", status=CohortStatus.FINISHED, region=north_east)
    _certify(_member(north_east), finished, staff)
    at_risk = CohortFactory(
        name="Sunderland, new year",
        status=CohortStatus.OPEN,
        region=north_east,
        capacity=12,
        starts_on=today + dt.timedelta(days=6),
        ends_on=today + dt.timedelta(days=80),
    )
    EnrolmentFactory(cohort=at_risk, member=_member(north_east))
    target_create(
        scope=TargetScope.NATIONAL, leaders=50, deadline=today + dt.timedelta(days=400), actor=staff
    )
    target_create(
        scope=TargetScope.REGION,
        region=north_east,
        leaders=10,
        deadline=today + dt.timedelta(days=400),
        actor=staff,
    )

    page = sign_in(staff)
    expect(page.get_by_role("main").get_by_role("link", name="Open the dashboard")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("heading", name=re.compile(r"National target: 50 leaders by"))).to_be_visible()
    certified = page.locator("#headline .headline-figure").first
    expect(certified).to_have_text("1")
    # The real stylesheets loaded (axe checks contrast with our colours): site.css colours the
    # navigation bar, dashboard.css sizes the headline figures.
    assert_styled(page)
    # The menu fits on one row at 1280 px; the pages used less often are in the Staff menu.
    menu = page.get_by_role("navigation", name="Main")
    tops = menu.locator(".navbar-nav > li").evaluate_all(
        "items => items.map(item => Math.round(item.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1, f"The menu wraps at 1280 px: its items start at {tops}"
    menu.get_by_role("button", name="Staff").click()
    expect(menu.get_by_role("link", name="Audit trail")).to_be_visible()
    expect(menu.get_by_role("link", name="Admin")).to_be_visible()
    page.keyboard.press("Escape")
    expect(certified).to_have_css("font-size", "32px")
    expect(page.get_by_role("img", name="Burn-up chart")).to_be_visible()
    expect(page.get_by_role("region", name="The chart in numbers")).to_be_visible()
    assert_accessible(page)

    # The number links to the people it counts.
    certified.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leaders")
    expect(page.locator("#list-count")).to_have_text("1 person")
    assert_accessible(page)
    page.go_back()

    # A region, then its constituencies.
    page.locator("#table-places").get_by_role("link", name="North East").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("By place: North East")
    expect(page.locator("#table-places tbody tr").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Dashboard").first.click()

    # A cohort at risk, on its own page.
    risks = page.locator("#table-cohorts-at-risk")
    expect(risks.get_by_text(re.compile(r"1 of 12 places taken, 6 days before the start"))).to_be_visible()
    risks.get_by_role("link", name="Sunderland, new year").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sunderland, new year")
    page.go_back()

    # The places as CSV.
    with page.expect_download() as download:
        page.locator("#places").get_by_role("link", name="Download as CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Region", "Leaders", "In training"]
    assert next(row for row in rows if row[0] == "North East")[1:3] == ["1", "1"]

    # A colleague's tab: a certificate issued on paper evidence; a reload here shows it.
    newcomer = EnrolmentFactory(cohort=finished, member=_member(north_east), status=EnrolmentStatus.COMPLETED)
    other_tab = page.context.new_page()
    other_tab.goto(reverse("certification:staff-manual-issue", args=[newcomer.pk]))
    other_tab.get_by_label("Evidence that the rule is met").fill("Signed paper register, all sessions.")
    other_tab.get_by_role("button", name=re.compile("Issue")).click()
    expect(other_tab.get_by_role("heading", level=1)).to_be_visible()
    other_tab.close()
    page.reload()
    expect(page.locator("#headline .headline-figure").first).to_have_text("2")

    # On a phone: the narrow chart, and still accessible.
    phone = browser.new_context(base_url=live_server.url, viewport=PHONE)
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    small.goto("/manage/dashboard/")
    expect(small.get_by_role("img", name="Burn-up chart")).to_be_visible()
    # The menu folds behind its button, and opens as a list.
    menu = small.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="Dashboard")).to_be_hidden()
    menu.get_by_role("button", name="Show the menu").click()
    expect(menu.get_by_role("link", name="Dashboard")).to_be_visible()
    # Wait out the collapse's animation ("collapsing"): a click in the middle of it was
    # sometimes lost under load (as in tests/e2e/test_crawl_valid.py).
    expect(small.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    menu.get_by_role("button", name="Staff").click()
    expect(menu.get_by_role("link", name="Emails sent")).to_be_visible()
    assert_accessible(small)
    menu.get_by_role("button", name="Show the menu").click()
    expect(menu.get_by_role("link", name="Dashboard")).to_be_hidden()
    assert_accessible(small)
    phone.close()
