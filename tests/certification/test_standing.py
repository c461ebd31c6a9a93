"""One standing for a certificate (valid, expired, revoked, withdrawn) and one definition of a
Future Leader, read the same way by the check page, the API, the registry and the dashboard."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from certification.models import Certificate, RegistryEntry, Visibility
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.standing import Standing, certificate_standing
from members.erasure import account_erase
from members.permissions import Role
from reporting.selectors.dashboard import Scope, lapsed_leaders_count, leaders_by_place, leaders_count
from reporting.services.tally import leader_tally_sync
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
_numbers = itertools.count(1000)


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


def _leader(staff, *, visibility=Visibility.PUBLIC) -> Certificate:
    member = UserFactory(role=Role.TRAINEE, last_name=f"Leader{next(_numbers)}")
    enrolment = EnrolmentFactory(member=member)
    certificate = certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence.")
    RegistryEntry.objects.filter(member=certificate.holder).update(visibility=visibility)
    return certificate


def _expiring(certificate: Certificate, last_day: dt.date) -> Certificate:
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=last_day)
    leader_tally_sync(user_ids=[certificate.holder_id])  # the update() announced nothing
    return Certificate.objects.select_related("holder").get(pk=certificate.pk)


# --- The standing itself -------------------------------------------------------------------


def test_a_certificate_holds_to_the_end_of_its_last_day_in_the_sites_time_zone(staff):
    """In summer, 23:30 on the last day is 22:30 UTC: still valid; midnight ends it."""
    certificate = _expiring(_leader(staff), dt.date(2026, 7, 1))
    late = dt.datetime(2026, 7, 1, 23, 30, tzinfo=LONDON)
    midnight = dt.datetime(2026, 7, 2, 0, 0, tzinfo=LONDON)
    assert certificate_standing(certificate, now=late).state == Standing.VALID
    expired = certificate_standing(certificate, now=midnight)
    assert expired.state == Standing.EXPIRED
    assert expired.on == dt.date(2026, 7, 1)
    assert expired.label == "Expired"


def test_revoked_and_withdrawn_outrank_expiry(staff):
    certificate = _expiring(_leader(staff), dt.date(2020, 1, 1))
    revoked = certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    standing = certificate_standing(revoked)
    assert (standing.state, standing.on, standing.reason) == (
        Standing.REVOKED,
        timezone.localdate(revoked.revoked_at),
        "Issued in error.",
    )
    account_erase(user=certificate.holder, actor=staff, reason="Asked by the member.")
    withdrawn = Certificate.objects.select_related("holder").get(pk=certificate.pk)
    assert certificate_standing(withdrawn).state == Standing.WITHDRAWN


# --- The public check page -----------------------------------------------------------------


def test_the_check_page_says_expired_with_its_date_and_how_to_renew(client, staff):
    certificate = _expiring(_leader(staff), timezone.localdate() - dt.timedelta(days=3))
    page = client.get(reverse("certification:verify", kwargs={"code": certificate.code})).content.decode()
    assert "Expired" in page
    assert "alert-success" not in page
    assert f"valid until {certificate.expires_on:%-d %B %Y}" in page
    assert "renew" in page


def test_a_kept_check_page_expires_at_midnight_too(client, staff, time_machine):
    """The page kept at 23:59 on the last day is not shown after midnight: the standing
    changes with no change to the certificate's row."""
    last_day = dt.date(2026, 3, 10)
    certificate = _expiring(_leader(staff), last_day)
    url = reverse("certification:verify", kwargs={"code": certificate.code})
    time_machine.move_to(dt.datetime(2026, 3, 10, 23, 59, tzinfo=LONDON), tick=False)
    assert "alert-success" in client.get(url).content.decode()
    time_machine.move_to(dt.datetime(2026, 3, 11, 0, 1, tzinfo=LONDON), tick=False)
    page = client.get(url).content.decode()
    assert "Expired" in page
    assert "alert-success" not in page


def test_the_api_and_the_page_agree_on_every_standing(client, staff):
    today = timezone.localdate()
    valid = _leader(staff)
    expired = _expiring(_leader(staff), today - dt.timedelta(days=1))
    revoked = certificate_revoke(certificate=_leader(staff), actor=staff, public_reason="Issued in error.")
    withdrawn = _leader(staff)
    account_erase(user=withdrawn.holder, actor=staff, reason="Asked by the member.")
    standings = [(valid, "Valid"), (expired, "Expired"), (revoked, "Revoked"), (withdrawn, "Withdrawn")]
    for certificate, label in standings:
        body = APIClient().get(reverse("api:certificate-verify", kwargs={"code": certificate.code})).json()
        assert body["status_label"] == label
        assert body["status"] == label.lower()
        page = client.get(reverse("certification:verify", kwargs={"code": certificate.code})).content.decode()
        assert f">{label}<" in page


# --- Leaders: the registry counts whom the dashboard counts ----------------------------------


def _dashboard_leaders() -> int:
    return leaders_count(leaders_by_place(), scope=Scope())


def test_a_revocation_takes_a_leader_out_of_the_registry_everywhere(client, staff):
    kept = _leader(staff)
    gone = _leader(staff)
    certificate_revoke(certificate=gone, actor=staff, public_reason="Issued in error.")
    entry = RegistryEntry.objects.get(member=gone.holder)
    kept_entry = RegistryEntry.objects.get(member=kept.holder)
    registry = reverse("certification:registry")

    for viewer in (None, staff):
        if viewer:
            client.force_login(viewer)
        page = client.get(registry).content.decode()
        # By their entries' links: names can repeat, and "O'Brien" shows escaped.
        assert reverse("certification:registry-entry", args=[entry.pk]) not in page
        assert reverse("certification:registry-entry", args=[kept_entry.pk]) in page
        assert client.get(reverse("certification:registry-entry", args=[entry.pk])).status_code == 404
    listed = APIClient().get(reverse("api:registry-list")).json()["results"]
    assert [row["id"] for row in listed] == [kept_entry.pk]

    client.force_login(gone.holder)
    assert client.get(reverse("certification:registry-me")).status_code == 404


def test_the_registry_counts_exactly_the_dashboards_leaders_in_the_same_words(client, staff):
    for visibility in Visibility.values:
        _leader(staff, visibility=visibility)
    _expiring(_leader(staff), timezone.localdate() - dt.timedelta(days=1))  # lapsed, still a leader
    certificate_revoke(certificate=_leader(staff), actor=staff, public_reason="Issued in error.")
    erased = _leader(staff)
    account_erase(user=erased.holder, actor=staff, reason="Asked by the member.")

    client.force_login(staff)
    response = client.get(reverse("certification:registry"))
    counts = response.context["counts"]
    assert _dashboard_leaders() == 5
    assert counts["total"] + counts["erased"] == _dashboard_leaders()
    assert counts["lapsed"] == lapsed_leaders_count() == 1
    page = response.content.decode()
    assert "4 leaders, 1 lapsed" in page
    assert "1 more leader counted on the dashboard is not listed" in page


def test_the_holder_staff_and_the_api_see_the_same_standing(client, staff):
    certificate = _expiring(_leader(staff), timezone.localdate() - dt.timedelta(days=1))
    client.force_login(certificate.holder)
    page = client.get(reverse("certification:my-certificates")).content.decode()
    assert ">Expired<" in page
    assert "Renew by activity" not in page  # renewal by activity ends when it lapses
    detail = client.get(reverse("api:certificate-detail", args=[certificate.pk])).json()
    assert (detail["status"], detail["standing"]) == ("valid", "expired")
    client.force_login(staff)
    overview = client.get(reverse("certification:staff-overview")).content.decode()
    assert ">Expired<" in overview
    assert ">Valid<" not in overview
    assert (
        "Expired: it was valid until"
        in client.get(reverse("certification:staff-certificate", args=[certificate.pk])).content.decode()
    )
