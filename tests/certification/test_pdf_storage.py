"""Certificate PDFs are rendered once into private storage and served from there; rendered
again only when what they show changes; deleted on erasure."""

import logging

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.models import Certificate
from certification.services.certificates import (
    certificate_issue_manually,
    certificate_name_display_set,
    certificate_revoke,
)
from certification.services.pdfs import certificate_pdf_storage_name, certificate_pdf_stored_names
from certification.tasks import certificate_pdfs_render_task
from members.erasure import account_erase
from members.permissions import Role
from tests.factories import CohortFactory, EnrolmentFactory, UserFactory
from tests.storage.privacy import assert_stored_privately

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def certificate(staff):
    return certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")


class Renders:
    """Counts WeasyPrint renders from certification.pdf's own log record of each."""

    def __init__(self, caplog):
        self.caplog = caplog
        caplog.set_level(logging.DEBUG, logger="certification.pdf")

    @property
    def count(self) -> int:
        return sum(
            record.name == "certification.pdf" and record.getMessage().startswith("Rendered the PDF")
            for record in self.caplog.records
        )


@pytest.fixture
def renders(caplog):
    return Renders(caplog)


def download(client, certificate) -> bytes:
    response = client.get(reverse("certification:certificate-pdf", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="certificate-')
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    return b"".join(response.streaming_content)


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def test_the_second_download_is_served_from_storage_without_rendering(client, certificate, renders):
    """The first download renders and stores; the second reads the stored file as it is."""
    client.force_login(certificate.holder)
    first = download(client, certificate)
    assert first.startswith(b"%PDF")
    assert renders.count == 1
    name = certificate_pdf_storage_name(certificate)
    assert stored_bytes(name) == first
    written = default_storage.get_modified_time(name)

    second = download(client, certificate)
    assert renders.count == 1
    assert second == first
    assert default_storage.get_modified_time(name) == written
    assert certificate_pdf_stored_names(certificate_id=certificate.pk) == [
        certificate_pdf_storage_name(certificate)
    ]


def test_a_corrected_name_renders_again_and_the_old_file_goes(client, certificate, renders):
    """The name printed on it changed: a new PDF, the name in it; the older one deleted."""
    client.force_login(certificate.holder)
    download(client, certificate)
    old_name = certificate_pdf_storage_name(certificate)
    Certificate.objects.filter(pk=certificate.pk).update(holder_name="Aisha Khan-Brown")
    certificate.refresh_from_db()

    download(client, certificate)
    assert renders.count == 2
    assert not default_storage.exists(old_name)
    assert certificate_pdf_stored_names(certificate_id=certificate.pk) == [
        certificate_pdf_storage_name(certificate)
    ]
    download(client, certificate)
    assert renders.count == 2


def test_the_check_page_name_choice_does_not_render_again(client, certificate, renders):
    """The PDF always prints the name on the certificate; the check page's choice is not on it."""
    client.force_login(certificate.holder)
    download(client, certificate)
    certificate_name_display_set(certificate=certificate, holder=certificate.holder, shows_full_name=False)
    download(client, certificate)
    assert renders.count == 1


def test_revocation_renders_again_stamped(client, staff, certificate, renders):
    """The PDF shows the status, so a revoked certificate is not served as the valid copy."""
    client.force_login(certificate.holder)
    valid = download(client, certificate)
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    revoked = download(client, certificate)
    assert renders.count == 2
    assert revoked != valid


def test_another_members_id_is_a_404_and_nothing_is_rendered(client, certificate, renders):
    """Someone else's certificate: 404, no render, nothing stored."""
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(reverse("certification:certificate-pdf", args=[certificate.pk])).status_code == 404
    assert renders.count == 0
    assert certificate_pdf_stored_names(certificate_id=certificate.pk) == []


def test_the_stored_file_is_not_under_a_public_address(client, settings, certificate):
    """Stored privately (MEDIA_ROOT outside the static files, or a private object), and no
    URL serves MEDIA_URL."""
    client.force_login(certificate.holder)
    download(client, certificate)
    name = certificate_pdf_storage_name(certificate)
    assert_stored_privately(name)
    assert client.get(settings.MEDIA_URL + name).status_code == 404
    client.logout()
    assert client.get(settings.MEDIA_URL + name).status_code == 404


def test_erasure_deletes_the_stored_pdfs(client, certificate, django_capture_on_commit_callbacks):
    """Erasing the holder's account deletes every stored PDF of their certificates, once the
    erasure has committed."""
    member = certificate.holder
    client.force_login(member)
    download(client, certificate)
    name = certificate_pdf_storage_name(certificate)
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        report = account_erase(user=member, actor=member)
        assert default_storage.exists(name)
    assert report.counts["certification"]["certificate_pdfs"] == 1
    assert not default_storage.exists(name)
    assert certificate_pdf_stored_names(certificate_id=certificate.pk) == []


def _cohort_with_certificates(staff, size: int):
    cohort = CohortFactory(capacity=size)
    for _ in range(size):
        certificate_issue_manually(enrolment=EnrolmentFactory(cohort=cohort), actor=staff, reason="Evidence.")
    return cohort


def test_the_cohort_task_stores_each_pdf_once(client, staff, renders):
    """Every certificate of the cohort is stored; running it again renders nothing; a download
    afterwards is served from storage."""
    cohort = _cohort_with_certificates(staff, 3)
    assert certificate_pdfs_render_task.delay(cohort.pk).get() == {"certificates": 3, "rendered": 3}
    assert renders.count == 3
    assert certificate_pdfs_render_task.delay(cohort.pk).get() == {"certificates": 3, "rendered": 0}
    certificate = Certificate.objects.filter(enrolment__cohort=cohort).first()
    client.force_login(certificate.holder)
    download(client, certificate)
    assert renders.count == 3


def test_the_cohort_task_runs_one_query_whatever_the_size(staff):
    """The same SQL for a cohort of two as for one of six."""

    def queries(size):
        cohort = _cohort_with_certificates(staff, size)
        with CaptureQueriesContext(connection) as captured:
            certificate_pdfs_render_task.delay(cohort.pk)
        return len(captured)

    assert queries(2) == queries(6) == 1
