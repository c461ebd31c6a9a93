"""HTML is gzipped (Django's GZipMiddleware, with its BREACH mitigation); files already
compressed (PDFs, ZIPs, images) are sent as they are (config.middleware.TextGZipMiddleware)."""

import gzip

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from whitenoise.compress import Compressor

from config.middleware import TextGZipMiddleware
from members.permissions import Role
from tests.factories import AssignmentFactory, CohortFactory, EnrolmentFactory, SessionFactory, UserFactory
from training.models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Outcome,
    Submission,
    SubmissionStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gradebook_60x10(seeded):
    """60 trainees x 10 assignments, every cell handed in, as tests/training/test_marking.py
    grows it for its query budget."""
    trainer = UserFactory(role=Role.TRAINER)
    cohort = CohortFactory(trainers=[trainer])
    for _ in range(10 - cohort.version.modules.count()):
        AssignmentFactory(module__version=cohort.version)
    work = list(cohort.version.modules.values_list("assignments", flat=True))
    enrolments = EnrolmentFactory.create_batch(60, cohort=cohort)
    starts = timezone.now() - timezone.timedelta(days=3)
    session = SessionFactory(cohort=cohort, starts_at=starts, ends_at=starts + timezone.timedelta(hours=2))
    Submission.objects.bulk_create(
        Submission(
            enrolment=enrolment,
            assignment_id=assignment_id,
            attempt=1,
            status=SubmissionStatus.SUBMITTED,
            submitted_at=timezone.now(),
            outcome=Outcome.PASS if i % 2 else "",
            is_late=i % 3 == 0,
        )
        for enrolment in enrolments
        for i, assignment_id in enumerate(work)
    )
    Attendance.objects.bulk_create(
        Attendance(
            session=session,
            enrolment=enrolment,
            status=AttendanceStatus.PRESENT,
            source=AttendanceSource.REGISTER,
            recorded_at=timezone.now(),
        )
        for enrolment in enrolments
    )
    return trainer, cohort


def test_the_60x10_gradebook_comes_back_gzipped_and_at_least_5x_smaller(client, gradebook_60x10):
    trainer, cohort = gradebook_60x10
    client.force_login(trainer)
    url = reverse("training:cohort-gradebook", args=[cohort.pk])
    plain = client.get(url)
    compressed = client.get(url, headers={"accept-encoding": "gzip, deflate, br"})
    assert plain.status_code == compressed.status_code == 200
    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    html = gzip.decompress(compressed.content).decode()
    assert html.count('<th scope="row">') == 60
    assert len(compressed.content) * 5 <= len(plain.content), (len(compressed.content), len(plain.content))


def test_each_compressed_response_differs_in_length_breach_mitigation(client, gradebook_60x10):
    """Django adds random bytes to each gzip header (Heal The Breach), so the length of a
    response does not reveal how well a guessed secret compressed."""
    trainer, cohort = gradebook_60x10
    client.force_login(trainer)
    url = reverse("training:cohort-gradebook", args=[cohort.pk])
    lengths = {len(client.get(url, headers={"accept-encoding": "gzip"}).content) for _ in range(5)}
    assert len(lengths) > 1


@pytest.mark.parametrize(
    ("content_type", "compressed"),
    [
        ("text/html; charset=utf-8", True),
        ("text/csv; charset=utf-8", True),
        ("application/json", True),
        ("application/pdf", False),
        ("application/zip", False),
        ("image/png", False),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),
    ],
)
def test_only_text_is_compressed(content_type, compressed):
    """PDFs, ZIPs, images and spreadsheets are compressed already: sent as they are."""
    request = RequestFactory().get("/", headers={"accept-encoding": "gzip"})
    body = b"a compressible body " * 100
    response = TextGZipMiddleware(lambda request: HttpResponse(body, content_type=content_type))(request)
    assert (response.get("Content-Encoding") == "gzip") is compressed
    assert (response.content != body) is compressed


def test_collectstatic_compresses_scripts_and_styles_but_not_source_maps(settings):
    """Source maps are for developer tools: compressing them took over half of collectstatic."""
    compressor = Compressor(extensions=settings.WHITENOISE_SKIP_COMPRESS_EXTENSIONS, quiet=True)
    assert compressor.should_compress("vendor/bootstrap/bootstrap.bundle.min.js")
    assert compressor.should_compress("css/site.css")
    assert not compressor.should_compress("vendor/bootstrap/bootstrap.bundle.min.js.map")
    assert not compressor.should_compress("images/logo.png")
