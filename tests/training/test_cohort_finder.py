"""The public cohort finder, the public cohort page and the home page's nearby cohorts:
what anyone sees signed out, and the way from the finder through sign-up to applying."""

import datetime as dt
import html
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.models import Region
from members.onboarding import RETURN_TO_SESSION_KEY
from members.permissions import Role
from tests.factories import (
    PASSWORD,
    CohortFactory,
    ConstituencyFactory,
    EnrolmentFactory,
    ModuleFactory,
    RegionFactory,
    SessionFactory,
    UserFactory,
    VersionFactory,
)
from training.models import CohortStatus, Enrolment, EnrolmentStatus, SessionMode, VersionStatus

pytestmark = pytest.mark.django_db

FINDER = reverse("training:cohort-list")


def html_of(response) -> str:
    return html.unescape(response.content.decode())


def _titles(response) -> list[str]:
    return re.findall(
        r'<h[23] class="h5 card-title mb-1"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


def _online_session(cohort, **kwargs):
    return SessionFactory(
        cohort=cohort,
        mode=SessionMode.ONLINE,
        venue="",
        address="",
        online_link="https://meet.example.org/s3cret",
    )


# --- Who sees what ------------------------------------------------------------------------


def test_anonymous_visitor_sees_only_cohorts_open_for_applications(client, db):
    """Signed out, the finder lists open cohorts of published versions whose applications have
    not closed (opening later too); draft, running, cancelled, closed and unpublished are left out."""
    today = timezone.localdate()
    CohortFactory(name="Open one")
    CohortFactory(
        name="Opens later",
        enrolment_opens_on=today + dt.timedelta(days=3),
        enrolment_closes_on=today + dt.timedelta(days=20),
        starts_on=today + dt.timedelta(days=30),
    )
    CohortFactory(name="Draft one", status=CohortStatus.DRAFT)
    CohortFactory(name="Running one", status=CohortStatus.RUNNING)
    CohortFactory(name="Cancelled one", status=CohortStatus.CANCELLED)
    CohortFactory(
        name="Closed one",
        enrolment_opens_on=today - dt.timedelta(days=20),
        enrolment_closes_on=today - dt.timedelta(days=1),
    )
    CohortFactory(name="Unpublished", version=VersionFactory(status=VersionStatus.DRAFT, published_at=None))

    response = client.get(FINDER)
    assert response.status_code == 200
    assert _titles(response) == ["Open one", "Opens later"]
    assert "Applications open on" in html_of(response)


def test_public_cohort_page_of_an_open_cohort_and_404_for_any_other(client, db):
    """The cohort page is public for open cohorts (dates, where, sessions' times and places,
    what the programme covers, places left); any other cohort is a 404 to a visitor."""
    cohort = CohortFactory(name="Leeds spring", capacity=12)
    SessionFactory(
        cohort=cohort, title="Power mapping", venue="Chapeltown Library", address="1 Reginald Terrace"
    )
    _online_session(cohort)
    ModuleFactory(version=cohort.version, title="One-to-one meetings")
    running = CohortFactory(status=CohortStatus.RUNNING)

    response = client.get(reverse("training:cohort-detail", args=[cohort.pk]))
    page = html_of(response)
    assert response.status_code == 200
    for text in (
        "Leeds spring",
        "Power mapping",
        "Chapeltown Library",
        "1 Reginald Terrace",
        "One-to-one meetings",
        "12 places left",
        "Online and in person",
        cohort.starts_on.strftime("%-d %B %Y"),
    ):
        assert text in page, text
    apply_url = reverse("training:cohort-apply", args=[cohort.pk])
    assert f"{reverse('account_signup')}?next={apply_url}" in page.replace("%2F", "/")
    assert client.get(reverse("training:cohort-detail", args=[running.pk])).status_code == 404
    assert client.get(reverse("training:cohort-detail", args=[999999])).status_code == 404


def test_no_member_data_on_the_public_pages(client, db):
    """Neither the finder nor the cohort page shows a trainer's or an enrolled member's name
    or email, an applicant's motivation, or an online session's link."""
    trainer = UserFactory(role=Role.TRAINER, first_name="Trudy", last_name="Trainerson")
    cohort = CohortFactory(trainers=[trainer])
    member = UserFactory(first_name="Eddie", last_name="Enrolled")
    EnrolmentFactory(cohort=cohort, member=member, motivation="My private reasons")
    _online_session(cohort)
    pages = html_of(client.get(FINDER)) + html_of(
        client.get(reverse("training:cohort-detail", args=[cohort.pk]))
    )
    for secret in (
        trainer.email,
        "Trudy",
        "Trainerson",
        member.email,
        "Eddie",
        "Enrolled",
        "My private reasons",
        "s3cret",
    ):
        assert secret not in pages, secret


# --- Filters ------------------------------------------------------------------------------


def test_filters_work_alone_and_together(client, db):
    """Region, constituency (with the cohorts open to its whole region), start dates and how
    a cohort meets each narrow the list, and combine."""
    today = timezone.localdate()
    north, south = RegionFactory(name="North"), RegionFactory(name="South")
    seat, other_seat = ConstituencyFactory(region=north), ConstituencyFactory(region=north)
    in_seat = CohortFactory(name="In seat", region=north, constituency=seat)
    SessionFactory(cohort=in_seat)
    wide = CohortFactory(name="Region wide", region=north, starts_on=today + dt.timedelta(days=40))
    _online_session(wide)
    mixed = CohortFactory(name="Other seat mixed", region=north, constituency=other_seat)
    SessionFactory(cohort=mixed)
    _online_session(mixed)
    south_online = CohortFactory(name="South online", region=south, starts_on=today + dt.timedelta(days=60))
    _online_session(south_online)

    assert _titles(client.get(FINDER, {"region": north.pk})) == ["In seat", "Other seat mixed", "Region wide"]
    assert _titles(client.get(FINDER, {"constituency": seat.pk})) == ["In seat", "Region wide"]
    later = (today + dt.timedelta(days=30)).isoformat()
    assert _titles(client.get(FINDER, {"starts_from": later})) == ["Region wide", "South online"]
    by = (today + dt.timedelta(days=45)).isoformat()
    assert _titles(client.get(FINDER, {"starts_to": by})) == ["In seat", "Other seat mixed", "Region wide"]
    assert _titles(client.get(FINDER, {"mode": "online"})) == ["Region wide", "South online"]
    assert _titles(client.get(FINDER, {"mode": "in_person"})) == ["In seat"]
    assert _titles(client.get(FINDER, {"mode": "mixed"})) == ["Other seat mixed"]
    # Together.
    assert _titles(client.get(FINDER, {"region": north.pk, "mode": "online"})) == ["Region wide"]
    assert _titles(client.get(FINDER, {"constituency": seat.pk, "starts_from": later})) == ["Region wide"]
    assert _titles(client.get(FINDER, {"region": south.pk, "mode": "online", "starts_to": by})) == []
    assert "No open cohorts match these choices." in html_of(
        client.get(FINDER, {"region": south.pk, "mode": "mixed"})
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"region": "abc"}, "Choose a region from the list."),
        ({"region": "99999999999999999999999"}, "Choose a region from the list."),
        ({"region": "²"}, "Choose a region from the list."),
        ({"constituency": "-1"}, "Choose a constituency from the list."),
        ({"constituency": "9223372036854775808"}, "Choose a constituency from the list."),
        ({"starts_from": "31/02/2027"}, "Enter a date such as 2027-03-01."),
        ({"starts_to": "tomorrow"}, "Enter a date such as 2027-03-31."),
        ({"mode": "teleport"}, "Choose how the cohort meets from the list."),
    ],
)
def test_bad_filter_values_are_a_400_with_the_reason(client, db, query, message):
    """A value the finder cannot read is a 400 naming the field, never a 500; the list still
    shows what the other filters find."""
    CohortFactory(name="Open one")
    response = client.get(FINDER, query)
    assert response.status_code == 400
    page = html_of(response)
    assert message in page
    assert "could not be used" in page
    assert _titles(response) == ["Open one"]


def test_constituency_outside_the_region_and_dates_the_wrong_way_round(client, db):
    north, south = RegionFactory(name="North"), RegionFactory(name="South")
    seat = ConstituencyFactory(region=south, name="Southport")
    today = timezone.localdate()
    response = client.get(
        FINDER,
        {
            "region": north.pk,
            "constituency": seat.pk,
            "starts_from": (today + dt.timedelta(days=10)).isoformat(),
            "starts_to": today.isoformat(),
        },
    )
    assert response.status_code == 400
    page = html_of(response)
    assert "Southport is in South. Choose a constituency in North, or any region." in page
    assert "Choose a date on or after the “Starting from” date." in page


# --- Places, pages, queries ---------------------------------------------------------------


def test_places_left_count_only_places_held(client, db):
    """Places left are the capacity less the enrolled and offered places: applications,
    the waiting list and withdrawals hold none. A full cohort says so."""
    cohort = CohortFactory(name="Counted", capacity=5)
    EnrolmentFactory.create_batch(2, cohort=cohort)
    EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.OFFERED)
    for status in (EnrolmentStatus.APPLIED, EnrolmentStatus.WAITLISTED, EnrolmentStatus.WITHDRAWN):
        EnrolmentFactory(cohort=cohort, status=status, first_enrolled_at=None)
    full = CohortFactory(name="Full", capacity=1)
    EnrolmentFactory(cohort=full)

    listing = html_of(client.get(FINDER))
    assert "2 places left" in listing
    assert "Full – join the waiting list" in listing
    assert "2 places left" in html_of(client.get(reverse("training:cohort-detail", args=[cohort.pk])))
    assert "Full – join the waiting list" in html_of(
        client.get(reverse("training:cohort-detail", args=[full.pk]))
    )


def test_finder_pages_by_twenty_keeping_the_filters(client, db):
    region = RegionFactory()
    CohortFactory.create_batch(25, region=region)
    CohortFactory.create_batch(2)
    first = client.get(FINDER, {"region": region.pk})
    assert len(_titles(first)) == 20
    assert "25 cohorts found; page 1 of 2" in html_of(first)
    assert f"region={region.pk}&amp;page=2" in first.content.decode()
    second = client.get(FINDER, {"region": region.pk, "page": 2})
    assert len(_titles(second)) == 5
    assert "Page 2 of 2" in html_of(second)


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_finder_and_cohort_page_cost_the_same_at_two_sizes(client, seeded):
    """Anonymous: the finder and the cohort page run a fixed number of queries, whatever the
    number of cohorts, sessions, modules and enrolments."""
    cohort = CohortFactory()
    SessionFactory(cohort=cohort)
    detail = reverse("training:cohort-detail", args=[cohort.pk])
    client.get(FINDER)
    small_list = _queries(client, FINDER)
    small_detail = _queries(client, detail)

    for other in CohortFactory.create_batch(30, reviews_applications=True):
        SessionFactory(cohort=other)
        _online_session(other)
        EnrolmentFactory(cohort=other)
    SessionFactory.create_batch(8, cohort=cohort)
    ModuleFactory.create_batch(6, version=cohort.version)
    EnrolmentFactory.create_batch(4, cohort=cohort)
    assert _queries(client, FINDER) == small_list
    assert _queries(client, FINDER, {"mode": "mixed", "page": 2}) <= small_list
    assert _queries(client, detail) == small_detail
    assert (small_list, small_detail) == (4, 3)
    # The finder: the count, the page, the regions, the constituencies. The cohort page: the
    # cohort with its places and how it meets, its sessions, its modules.


# --- From the finder to applying ----------------------------------------------------------


def _confirmation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)


def _onboard(client, region, apply_url):
    """Consent, then the profile, each bringing the member back to `apply_url`."""
    response = client.get(apply_url)
    assert response.url == reverse("members:consent")
    response = client.post(reverse("members:consent"), {"agree": "on"})
    assert response.url == apply_url
    response = client.get(apply_url)
    assert response.url == reverse("members:profile-edit")
    response = client.post(
        reverse("members:profile-edit"),
        {"first_name": "Ada", "last_name": "Lovelace", "region": region.pk, "constituency": ""},
    )
    assert response.url == apply_url


@pytest.mark.parametrize("allauth_remembers", [True, False], ids=["same-visit", "after-login-timeout"])
def test_apply_signed_out_then_sign_up_verify_onboard_and_apply(client, seeded, settings, allauth_remembers):
    """A visitor presses "Sign up and apply", signs up, confirms their address from the email,
    gives consent and fills in a profile, and lands on the cohort's application each time;
    then applies there. Also when allauth has forgotten the sign-up's `next` (verification
    after its login timeout: the link signs nobody in), through the session's return-to."""
    cohort = CohortFactory(name="Find me")
    apply_url = reverse("training:cohort-apply", args=[cohort.pk])
    page = client.get(reverse("training:cohort-detail", args=[cohort.pk])).content.decode()
    signup_link = re.search(r'href="(/accounts/signup/\?next=[^"]+)"', page).group(1)

    email = "ada@example.org"
    response = client.post(
        signup_link, {"email": email, "password1": PASSWORD, "password2": PASSWORD, "next": apply_url}
    )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [email]
    if not allauth_remembers:
        settings.ACCOUNT_LOGIN_TIMEOUT = 0  # the email is read after allauth's login timeout

    response = client.post(_confirmation_path(message))
    if allauth_remembers:
        assert response.url == apply_url  # allauth resumed the sign-up's login, with its next
    else:
        assert response.url == reverse("account_login")
        response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
        assert response.status_code == 302
        response = client.get(response.url)  # their home: the gate turns them to consent
        assert response.url == reverse("members:consent")
    assert client.session[RETURN_TO_SESSION_KEY] == apply_url

    region = RegionFactory(name="Wessex")
    _onboard(client, region, apply_url)
    assert RETURN_TO_SESSION_KEY not in client.session

    response = client.get(apply_url)
    assert response.status_code == 200
    assert "Apply to Find me" in html_of(response)
    response = client.post(apply_url, {"motivation": "I organise my street."})
    assert response.url == reverse("training:my-training")
    enrolment = Enrolment.objects.get(cohort=cohort, member__email=email)
    assert enrolment.status == EnrolmentStatus.ENROLLED


def test_return_to_keeps_only_paths_on_this_site(client, seeded):
    """A sign-up `next` pointing elsewhere is not kept."""
    client.post(
        reverse("account_signup") + "?next=https://evil.example/",
        {
            "email": "x@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert RETURN_TO_SESSION_KEY not in client.session


# --- Home page ----------------------------------------------------------------------------


def test_home_page_shows_cohorts_in_the_region_the_visitor_chooses(client, db):
    """Signed out, the home page asks for a region (never guessed) and shows that region's
    soonest open cohorts, with a link to the finder."""
    north, south = RegionFactory(name="North"), RegionFactory(name="South")
    CohortFactory(name="North one", region=north)
    CohortFactory(name="South one", region=south)

    first = html_of(client.get(reverse("members:home")))
    assert "Join a cohort near you" in first
    assert '<select name="region"' in first
    assert "North one" not in first
    assert "South one" not in first
    assert reverse("training:cohort-list") in first

    response = client.get(reverse("members:home"), {"region": north.pk})
    assert response.status_code == 200
    assert _titles(response) == ["North one"]
    assert f"{reverse('training:cohort-list')}?region={north.pk}" in response.content.decode()
    bad = client.get(reverse("members:home"), {"region": "nowhere"})
    assert bad.status_code == 400
    assert "Choose a region from the list." in html_of(bad)


# --- The constituency chooser -------------------------------------------------------------


def test_constituency_chooser_is_grouped_by_region_and_loads_its_narrowing_script(client, seeded):
    """Everywhere a constituency is chosen (the profile, the finder, the cohort form, the
    registry's filter) it is one <select> grouped by region, tied to the region field for the
    script that narrows it."""
    trainee = UserFactory(role=Role.TRAINEE)
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    region = Region.objects.filter(constituencies__isnull=False).order_by("name").first()
    pages = [client.get(FINDER, {"region": ""}), client.get(reverse("certification:registry"))]
    client.force_login(trainee)
    pages.append(client.get(reverse("members:profile-edit")))
    client.force_login(staff)
    pages.append(client.get(reverse("training:cohort-create")))
    for response in pages:
        page = response.content.decode()
        assert response.status_code == 200
        assert re.search(r'<select name="constituency"[^>]*data-region-field="region"', page)
        assert f'<optgroup label="{html.escape(region.name)}" data-region="{region.pk}">' in page
        assert re.search(r'<script src="/static/js/constituency-narrowing\.[0-9a-f]+\.js"></script>', page)
