"""The certificate PDF, its safe rendering, and the holder's page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from weasyprint import HTML

from certification.pdf import FetchRefused, SafeURLFetcher, certificate_html, certificate_pdf
from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def certificate(staff):
    return certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")


def test_member_text_is_escaped_and_nothing_outside_is_fetched(certificate):
    """A name carrying markup prints as text; the PDF asks for nothing outside the app."""
    certificate.holder_name = '<img src="http://example.org/x.png"><script>alert(1)</script> Ada'
    certificate.save()
    html = certificate_html(certificate)
    assert "&lt;img src=&quot;http://example.org/x.png&quot;&gt;" in html
    assert "<script>alert" not in html

    asked: list[str] = []

    class Recording(SafeURLFetcher):
        def fetch(self, url, headers=None):
            asked.append(url)
            return super().fetch(url, headers)

    HTML(string=html, url_fetcher=Recording()).write_pdf()
    assert not [url for url in asked if url.startswith(("http:", "https:"))]


@pytest.mark.parametrize(
    "url", ["http://example.org/x.png", "https://example.org/a.css", "file:///etc/passwd"]
)
def test_the_fetcher_refuses_the_outside_world(url):
    with pytest.raises(FetchRefused):
        SafeURLFetcher().fetch(url)


def test_the_pdf_is_a_pdf(certificate):
    pdf = certificate_pdf(certificate)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1024


def test_holder_and_staff_download_others_cannot(client, staff, certificate):
    url = reverse("certification:certificate-pdf", args=[certificate.pk])
    client.force_login(certificate.holder)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="certificate-')
    assert response["Cache-Control"] == "private, no-store"
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(role=Role.TRAINER))
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


def test_holder_chooses_initials_for_the_check_page(client, certificate):
    certificate.holder_name = "Aisha Khan"
    certificate.save()
    client.force_login(certificate.holder)
    url = reverse("certification:certificate-name", args=[certificate.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"shows": "initials"}).status_code == 302
    page = client.get(reverse("certification:verify", args=[certificate.code])).content.decode()
    assert "A. K." in page
    assert "Aisha Khan" not in page
    assert client.post(url, {"shows": "everything"}).status_code == 302
    certificate.refresh_from_db()
    assert not certificate.shows_full_name
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.post(url, {"shows": "full"}).status_code == 404


def test_holder_page_runs_a_fixed_number_of_queries(client, staff):
    member = UserFactory(role=Role.TRAINEE)
    client.force_login(member)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("certification:my-certificates")).status_code == 200
        return len(queries)

    certificate_issue_manually(enrolment=EnrolmentFactory(member=member), actor=staff, reason="Evidence.")
    few = count()
    for _ in range(3):
        # One active enrolment per programme: each certificate is for another programme.
        certificate_issue_manually(enrolment=EnrolmentFactory(member=member), actor=staff, reason="Evidence.")
    assert count() == few
