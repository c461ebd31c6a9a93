"""National staff: flagged certificates, one step away, manual issue, revoke, review; access."""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from certification.models import Certificate, CertificateEventKind, CertificateStatus
from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    SessionFactory,
    UserFactory,
)
from tests.listing import listing_check, page_of, row_headers
from training.models import CohortStatus
from training.services.attendance import register_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


def one_step_away_enrolment():
    """Attended the only session; one required assignment not passed yet."""
    cohort = CohortFactory(status=CohortStatus.RUNNING)
    enrolment = EnrolmentFactory(cohort=cohort)
    session = SessionFactory(cohort=cohort)
    register_save(session=session, marks={enrolment.pk: "present"}, actor=None, now=session.starts_at)
    AssignmentFactory(module__version=cohort.version, title="Power map")
    return enrolment


def test_overview_lists_one_step_away_and_issues_with_a_reason(client, staff):
    enrolment = one_step_away_enrolment()
    client.force_login(staff)
    page = client.get(reverse("certification:staff-overview")).content.decode()
    assert escape(str(enrolment.member)) in page
    assert "Power map" in page
    url = reverse("certification:staff-manual-issue", args=[enrolment.pk])
    assert "1 step short" in client.get(url).content.decode()
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Say what evidence shows the rule is met." in response.content.decode()
    assert not Certificate.objects.exists()
    response = client.post(url, {"reason": "Handed in a paper power map at the session."})
    certificate = Certificate.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("certification:staff-certificate", args=[certificate.pk])
    assert certificate.events.get().reason == "Handed in a paper power map at the session."


def test_staff_revoke_with_a_public_reason(client, staff):
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    client.force_login(staff)
    url = reverse("certification:staff-certificate", args=[certificate.pk])
    response = client.post(url, {"action": "revoke", "public_reason": ""})
    assert response.status_code == 400
    assert "shown publicly" in response.content.decode()
    response = client.post(
        url, {"action": "revoke", "public_reason": "Issued in error.", "note": "Wrong cohort."}
    )
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.events.last().kind == CertificateEventKind.REVOKED
    assert client.post(url, {"action": "revoke", "public_reason": "Again."}).status_code == 400
    assert client.post(url, {"action": "dance"}).status_code == 400


def test_review_closes_with_a_note(client, staff):
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    Certificate.objects.filter(pk=certificate.pk).update(
        needs_review=True, review_note="Now 1 step(s) short."
    )
    client.force_login(staff)
    url = reverse("certification:staff-certificate", args=[certificate.pk])
    assert "Flagged for review" in client.get(url).content.decode()
    assert client.post(url, {"action": "review", "note": ""}).status_code == 400
    assert (
        client.post(url, {"action": "review", "note": "The paper register shows attendance."}).status_code
        == 302
    )
    certificate.refresh_from_db()
    assert not certificate.needs_review


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER])
def test_only_staff_reach_these_pages(client, staff, role):
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    urls = [
        reverse("certification:staff-overview"),
        reverse("certification:staff-certificate", args=[certificate.pk]),
        reverse("certification:staff-manual-issue", args=[certificate.enrolment_id]),
    ]
    client.force_login(UserFactory(role=role))
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(urls[1], {"action": "revoke", "public_reason": "x"}).status_code == 403
    client.logout()
    for url in urls:
        assert client.get(url).status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID


def test_pages_run_a_fixed_number_of_queries(client, staff):
    client.force_login(staff)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    one_step_away_enrolment()
    overview, detail = (
        reverse("certification:staff-overview"),
        reverse("certification:staff-certificate", args=[first.pk]),
    )
    few = (count(overview), count(detail))
    for _ in range(6):
        certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
        one_step_away_enrolment()
    assert (count(overview), count(detail)) == few


def test_the_certificates_sort_and_page_on_the_one_table_component(client, staff):
    """Newest first, 25 a page; sortable by issue date; the search is kept by the links;
    unknown keys and bad pages change nothing. Each holder's name is their own (the pages are
    compared by the names in their rows: two made-up names alike failed it once)."""
    for number in range(27):
        enrolment = EnrolmentFactory(member__last_name=f"Holder {number:02d}")
        certificate_issue_manually(enrolment=enrolment, actor=staff, reason="Evidence.")
    client.force_login(staff)
    url = reverse("certification:staff-overview")
    listing_check(
        client,
        url,
        table="table-certificatetable",
        caption="27 certificates",
        sort="issued_at",
        per_page=25,
        total=27,
    )
    holder = Certificate.objects.order_by("pk").first().holder_name
    page = page_of(client, url, {"q": holder})
    assert "1 certificate" in page
    assert f"?{urlencode({'q': holder})}&sort=holder_name" in page


def test_flagged_and_one_step_away_are_captioned_tables_without_sort_links(client, staff):
    """The overview's two short lists are tables too (caption, row headers, one button each),
    without sort links: only the certificates below sort."""
    flagged = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    Certificate.objects.filter(pk=flagged.pk).update(needs_review=True, review_note="Mark corrected.")
    one_step_away_enrolment()
    client.force_login(staff)
    page = page_of(client, reverse("certification:staff-overview"), {"sort": "holder_name"})
    assert row_headers(page, "table-flaggedcertificatetable") == [flagged.holder_name]
    assert len(row_headers(page, "table-onestepawaytable")) == 1
    assert "Certificates flagged for review" in page
    assert "Trainees one step away from a certificate" in page
    assert page.count('aria-sort="') == 1  # the certificates' holder column


def test_the_flagged_certificates_page_apart_from_the_certificates(client, staff):
    """Two paged tables on one page: each link carries its own table's key (its prefix), so
    the flagged list's next page leaves the certificates on theirs, and the reverse."""
    for _ in range(27):
        certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")
    Certificate.objects.update(needs_review=True, review_note="Mark corrected.")
    client.force_login(staff)
    url = reverse("certification:staff-overview")
    first = page_of(client, url, {})
    assert "?flagged-page=2" in first
    assert "?page=2" in first
    assert len(row_headers(first, "table-flaggedcertificatetable")) == 25

    flagged_second = page_of(client, url, {"flagged-page": 2})
    assert len(row_headers(flagged_second, "table-flaggedcertificatetable")) == 2
    assert len(row_headers(flagged_second, "table-certificatetable")) == 25
    assert "?flagged-page=1" in flagged_second  # its Previous link

    certificates_second = page_of(client, url, {"page": 2})
    assert len(row_headers(certificates_second, "table-certificatetable")) == 2
    assert len(row_headers(certificates_second, "table-flaggedcertificatetable")) == 25
